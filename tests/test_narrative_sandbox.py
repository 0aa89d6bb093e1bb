"""A custom template (``--template``, a bureau's edited .j2 or .docx) cannot change the numbers of the
report nor exhaust the machine: the data it sees is read-only; padding, formatting, ``range``,
``lipsum``, ``*``, ``**``, ``~`` and printing are bounded in size; a render is bounded in time. Each
breach ends with a Chinese error naming the template file and line."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest

from xlsx_engine.narrative import sandbox
from xlsx_engine.narrative.docx import report_docx
from xlsx_engine.narrative.engine import NarrativeError, Narrator, from_data_file, project_context

ROOT = Path(__file__).resolve().parent.parent
SEED004 = ROOT / "tests" / "data" / "seeds" / "seed004.yaml"


@pytest.fixture(scope="module")
def inp():
    return from_data_file(SEED004)


def _render_j2(tmp_path: Path, inp, body: str):
    tpl = tmp_path / "bureau.j2"
    tpl.write_text("第一行：{{ project.name }}\n" + body + "\n", encoding="utf-8")
    return Narrator(tpl).summary(inp)


def _error(tmp_path: Path, inp, body: str) -> NarrativeError:
    with pytest.raises(NarrativeError) as info:
        _render_j2(tmp_path, inp, body)
    err = info.value
    assert err.line == 2 and err.template.endswith("bureau.j2"), str(err)
    assert "bureau.j2 第2行" in str(err) and "Traceback" not in str(err)
    return err


# ----------------------------------------------------------------------------- read-only data

@pytest.mark.parametrize("attack", [
    "{{ fund.update(score=99.99) }}",
    "{{ fund.setdefault('score', 99.99) }}",
    "{{ fund.sources.append(1) }}",
    "{{ indicators.pop() }}",
    "{{ indicators.sort() }}",
    "{{ result.clear() }}",
])
def test_template_cannot_modify_the_data(tmp_path, inp, attack):
    before = project_context(inp)[0]
    err = _error(tmp_path, inp, attack)
    assert "沙箱已禁止修改报告数据" in str(err) and "只读" in str(err)
    assert project_context(inp)[0] == before


def test_docx_template_cannot_change_the_built_in_table(tmp_path, inp):
    """The issue's attack: a .docx template calling ``fund.update(score=99.99)`` before the 自评表."""
    d = docx.Document()
    d.add_paragraph("{{ fund.update(score=99.99) }}")
    d.add_paragraph("资金得分{{ fund.score | num }}分")
    tpl = tmp_path / "bureau.docx"
    d.save(str(tpl))
    with pytest.raises(NarrativeError) as info:
        report_docx(inp, narrator=Narrator(tpl))
    assert "bureau.docx" in str(info.value) and "只读" in str(info.value)
    # the built-in report, rendered afterwards with the same input, prints the scorer's figure
    data, summary = report_docx(inp)
    cells = [c.text for t in docx.Document(io.BytesIO(data)).tables for row in t.rows for c in row.cells]
    assert "99.99" not in " ".join(cells) and summary.context["fund"]["score"] == inp.result.fund.score


def test_frozen_data_still_serialises(tmp_path, inp):
    r = _render_j2(tmp_path, inp, "{{ fund.sources | tojson }}")
    assert '"name": "当年财政拨款"' in r.markup


def test_frozen_views_read_like_dicts_and_lists():
    data = {"a": [1, {"b": 2}], "c": {"d": "x"}}
    frozen = sandbox.freeze(data)
    assert frozen["a"][1]["b"] == 2 and dict(frozen["c"].items()) == {"d": "x"} and len(frozen["a"]) == 2
    assert not hasattr(frozen, "update") and not hasattr(frozen["a"], "append")
    assert not hasattr(frozen, "__setitem__")


# ----------------------------------------------------------------------------- size

@pytest.mark.parametrize("attack,words", [
    ("{{ 'x' | center(10**9) }}", "填充宽度"),
    ("{{ 'x'.ljust(10**9) }}", "填充宽度"),
    ("{{ 'x'.zfill(10**9) }}", "填充宽度"),
    ("{{ ('a\\n' * 1000) | indent(100000) }}", "过长"),
    ("{{ '%*s' | format(10**9, 'x') }}", "格式宽度"),
    ("{{ '%0999999999d' | format(1) }}", "格式宽度"),
    ("{{ '%.999999999f' % 1.5 }}", "格式宽度"),
    ("{{ '{:>999999999}'.format(1) }}", "格式宽度"),
    ("{{ '{:>{w}}'.format(1, w=10**9) }}", "格式宽度"),
    ("{{ range(10**8) | list | length }}", "range"),
    ("{{ lipsum(10**6) }}", "lipsum"),
    ("{{ lipsum(5, max=10**9) }}", "lipsum"),
    ("{{ '报告' * 10**7 }}", "过长"),
    ("{{ [1] * 10**7 }}", "过长"),
    ("{{ 9 ** project.year }}", "指数"),
    ("{{ ((10 ** 60) ** 60) ** 60 }}", "过大"),
    ("{{ ('x' * 100000) | replace('x', 'yy') }}", "过长"),
    ("{{ ('x' * 100000).replace('x', 'yy') }}", "过长"),
    ("{{ ('x' * 100000) | wordwrap(1, wrapstring='yy') }}", "过长"),
    ("{{ ('x' * 100000) + ('x' * 100000) + ('x' * 100000) }}", "过长"),
    ("{% set a = 'x' * 100000 %}{% set a = a ~ a ~ a %}{{ a | length }}", "过长"),
    ("{% set a = ['x' * 1000] %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}{% set c = [b,b,b,b,b,b,b,b,b,b] %}"
     "{% set d = [c,c,c,c,c,c,c,c,c,c] %}{{ d }}", "过长"),
    ("{% set a = ['x' * 1000] %}{% set b = [a,a,a,a,a,a,a,a,a,a] %}{% set c = [b,b,b,b,b,b,b,b,b,b] %}"
     "{% set d = [c,c,c,c,c,c,c,c,c,c] %}{{ d | join }}", "过长"),
    ("{% set a = 'x' * 1000 %}{{ ([a] * 190) | join(a) }}", "过长"),
    ("{% set a = 'x' * 1000 %}{{ '-'.join([a] * 190 + [a] * 190) }}", "过长"),
    ("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", "输出超过"),
    ("{% for i in range(10000) %}{% set b = ('x' * 100000) | upper %}{% endfor %}", "累计超过"),
    ("{% macro m(n) %}{{ m(n) }}{% endmacro %}{{ m(1) }}", "递归"),
])
def test_size_limits_end_with_a_chinese_error_naming_the_line(tmp_path, inp, attack, words):
    err = _error(tmp_path, inp, attack)
    assert words in str(err), str(err)
    assert "已中止" in str(err) or "递归" in str(err)


# ----------------------------------------------------------------------------- time

@pytest.mark.parametrize("attack", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% set r = range(100000) | list %}{% for a in r %}{% for b in r %}{{ '' }}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% if a == b %}{% endif %}{% endfor %}{% endfor %}",
])
def test_a_render_is_stopped_after_the_time_limit(tmp_path, inp, attack, monkeypatch):
    """Without the limit these loops run 10¹⁰ iterations (hours); with it they stop at TIME_LIMIT."""
    monkeypatch.setattr(sandbox, "TIME_LIMIT", 0.5)
    err = _error(tmp_path, inp, attack)
    assert "超过0.5秒" in str(err) and "循环" in str(err)


def test_ordinary_templates_are_not_limited(tmp_path, inp):
    """The limits leave room for real reports: a long but reasonable template renders."""
    r = _render_j2(tmp_path, inp, "{% for i in range(2000) %}{{ project.name | center(40) }}"
                                  "{{ '%5.2f' | format(result.total) }}{{ '{:>8}'.format(fund.budget) }}\n"
                                  "{% endfor %}{{ lipsum(3) | length > 0 }}")
    assert r.markup.count("2020年城乡医疗保险个人补助资金") == 2001
