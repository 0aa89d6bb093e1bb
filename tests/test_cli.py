"""Tests of the ``jxzp`` command line: fill, score, names, demo and bad input.

The filled workbooks are produced by patching the template's sheet XML; these tests
check that every other zip member is byte-identical to the template, that cached
results are present for readers that never recalculate, and that every user error
exits with code 2, a Chinese message naming the field, no traceback and no file.
"""

from __future__ import annotations

import copy
import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
import python_calamine
import yaml
from lxml import etree

from xlsx_engine.cli.main import main as cli_main
from xlsx_engine.forms.project.layout import project_layout
from xlsx_engine.forms.project.profile import list_profiles
from xlsx_engine.integrity.tamper import parse_sheet
from xlsx_engine.ooxml.sheetmodel import FORMULA

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIR = ROOT / "templates"
SEED_DIR = ROOT / "tests" / "data" / "seeds"
EXAMPLE_DIR = ROOT / "examples"
SHEET_MEMBER = "xl/worksheets/sheet1.xml"
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
CHINESE = re.compile(r"[\u4e00-\u9fff]")

#: seed file -> (总分, 评价等次), as in the original reports
SEEDS = {
    "seed003-p1.yaml": (90.98, "优"),
    "seed003-p2.yaml": (92.84, "优"),
    "seed004.yaml": (98.0, "优"),
}

REQUIRED_NAMES = ("项目名称", "主管部门", "实施单位", "全年预算数", "全年执行数", "执行率", "资金得分", "总分", "评价等次",
                  "一级指标", "二级指标", "三级指标", "指标性质", "指标值", "度量单位", "实际完成值", "完成等级", "分值",
                  "定性自评分", "得分", "偏差原因", "指标提示")


# ----------------------------------------------------------------------------- helpers

def run_jxzp(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run ``python3 -m xlsx_engine.cli`` in a real process."""
    env = {k: v for k, v in os.environ.items() if k != "JXZP_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "xlsx_engine.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, encoding="utf-8", timeout=120)


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``xlsx_engine.cli.main`` in-process; returns (exit code, stdout, stderr)."""
    capsys.readouterr()
    code = cli_main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def seed_profile(seed: str) -> str:
    return yaml.safe_load((SEED_DIR / seed).read_text(encoding="utf-8"))["评分规则"]


def template_for(profile_id: str) -> Path:
    return TEMPLATE_DIR / f"xmzc-{profile_id}.xlsx"


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def zip_names(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def name_cell(profile_id: str, name: str) -> str:
    """The A1 reference of a single-cell defined name, from the layout."""
    ref = project_layout(profile_id).names[name]
    return ref.rpartition("!")[2].replace("$", "")


def sheet_cell(xml: bytes, ref: str):
    root = etree.fromstring(xml)
    for cell in root.iterfind("m:sheetData/m:row/m:c", NS):
        if cell.get("r") == ref:
            return cell
    raise AssertionError(f"no cell {ref}")


def calamine_value(path: Path, sheet: str, ref: str):
    m = re.fullmatch(r"([A-Z]+)(\d+)", ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    row = int(m.group(2))
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    ws = wb.get_sheet_by_name(sheet)
    r0, c0 = ws.start or (0, 0)
    rows = ws.to_python(skip_empty_area=False)
    return rows[row - 1 - r0][col - 1 - c0]


def rewrite_member(path: Path, member: str, data: bytes) -> None:
    """Replace one zip member, keeping the others."""
    members = []
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            members.append((info, data if info.filename == member else zf.read(info.filename)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, content in members:
            zf.writestr(info, content)
    path.write_bytes(buf.getvalue())


# ----------------------------------------------------------------------------- 1. fill seeds

@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """seed file name -> path of the workbook ``jxzp fill`` wrote for it."""
    out = tmp_path_factory.mktemp("filled")
    paths = {}
    for seed in SEEDS:
        target = out / (Path(seed).stem + ".xlsx")
        proc = run_jxzp("fill", str(template_for(seed_profile(seed))), str(SEED_DIR / seed), "-o", target.name,
                        cwd=out)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        paths[seed] = target
    return paths


def test_seed_files_exist():
    assert sorted(p.name for p in SEED_DIR.glob("*.yaml")) == sorted(SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_fill_writes_file(seed, filled):
    path = filled[seed]
    assert path.exists() and zipfile.is_zipfile(path)
    assert path.stat().st_size > 10_000
    assert not list(path.parent.glob(".*.tmp")), "fill left a temporary file behind"


@pytest.mark.parametrize("seed", SEEDS)
def test_fill_stdout_reports_total(seed, tmp_path):
    total, grade = SEEDS[seed]
    proc = run_jxzp("fill", str(template_for(seed_profile(seed))), str(SEED_DIR / seed), "-o", "out.xlsx",
                    cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert f"总分 {total:g}" in proc.stdout
    assert f"评价等次 {grade}" in proc.stdout
    assert (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("seed", SEEDS)
def test_score_json_on_filled_seed(seed, filled, capsys):
    total, grade = SEEDS[seed]
    code, out, err = run_main(capsys, "score", str(filled[seed]), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["评分规则"] == seed_profile(seed)
    assert report["不一致"] == 0
    rows = {r["名称"]: r for r in report["结果"]}
    assert rows["总分"]["程序计算"] == pytest.approx(total, abs=0.005)
    assert rows["总分"]["工作簿"] == pytest.approx(total, abs=0.005)
    assert rows["评价等次"]["程序计算"] == grade == rows["评价等次"]["工作簿"]
    assert all(r["一致"] for r in report["结果"])
    assert report["指标"], "no indicator rows reported"
    assert all(i["一致"] for i in report["指标"])


@pytest.mark.parametrize("seed", SEEDS)
def test_filled_zip_only_changes_main_sheet(seed, filled):
    template = template_for(seed_profile(seed))
    assert zip_names(filled[seed]) == zip_names(template)
    got, want = zip_members(filled[seed]), zip_members(template)
    assert SHEET_MEMBER in got
    for name in want:
        if name == SHEET_MEMBER:
            assert got[name] != want[name], "the main sheet was not filled"
        elif name == "xl/workbook.xml":     # a form on one page drops the print titles (Layout.repeats_header)
            assert re.sub(rb'<definedName name="_xlnm.Print_Titles"[^<]*</definedName>', b"", want[name]) == got[name]
        else:
            assert got[name] == want[name], f"{name} differs from the template (openpyxl round-trip?)"


@pytest.mark.parametrize("seed", SEEDS)
def test_filled_sheet_has_cached_values(seed, filled):
    pid = seed_profile(seed)
    total, grade = SEEDS[seed]
    xml = zip_members(filled[seed])[SHEET_MEMBER]
    cell = sheet_cell(xml, name_cell(pid, "总分"))
    assert cell.find("m:f", NS) is not None, "总分 lost its formula"
    v = cell.find("m:v", NS)
    assert v is not None and v.text, "总分 has no cached value"
    assert float(v.text) == pytest.approx(total, abs=0.005)
    cell = sheet_cell(xml, name_cell(pid, "评价等次"))
    assert cell.find("m:f", NS) is not None
    assert cell.get("t") == "str" and cell.find("m:v", NS).text == grade
    # every formula cell keeps its formula (a shared formula's cells expanded from its first, as Excel reads them)
    layout = project_layout(pid)
    sheet = parse_sheet(xml if isinstance(xml, bytes) else xml.encode("utf-8"), layout.sheet, [], "filled")
    for ref, spec in layout.cells.items():
        if spec.role == FORMULA:
            cell = sheet.get(ref)
            assert cell is not None and "=" + cell.formula == spec.formula, f"{ref} formula changed"


@pytest.mark.parametrize("seed", SEEDS)
def test_calamine_reads_total_without_recalc(seed, filled):
    pid = seed_profile(seed)
    total, grade = SEEDS[seed]
    sheet = project_layout(pid).sheet
    assert calamine_value(filled[seed], sheet, name_cell(pid, "总分")) == pytest.approx(total, abs=0.005)
    assert calamine_value(filled[seed], sheet, name_cell(pid, "评价等次")) == grade


def test_filled_workbook_still_protected(filled):
    wb = openpyxl.load_workbook(filled["seed004.yaml"])
    ws = wb["自评表"]
    assert ws.protection.sheet is True
    assert ws["C3"].value == "2020年城乡医疗保险个人补助资金"


# ----------------------------------------------------------------------------- 2. bad input

BASE = {
    "评分规则": "national",
    "年度": 2023,
    "项目名称": "测试项目",
    "主管部门": "某市医疗保障局",
    "实施单位": "某区医疗保障局",
    "资金": {"当年财政拨款": {"年初预算数": 100, "全年预算数": 100, "全年执行数": 95}},
    "执行率说明": "略",
    "绩效指标": [
        {"一级指标": "产出指标", "二级指标": "数量指标", "三级指标": "资助参保人数", "指标值": "≥100人",
         "实际完成值": 100, "分值": 50},
        {"一级指标": "效益指标", "二级指标": "社会效益指标", "三级指标": "救助比例", "指标值": "≥70%",
         "实际完成值": "72%", "分值": 30},
        {"一级指标": "满意度指标", "二级指标": "服务对象满意度指标", "三级指标": "满意度", "指标性质": "定性",
         "指标值": "满意", "实际完成值": "满意", "完成等级": "达成", "自评分": 10, "分值": 10},
    ],
}


def _write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _mutate(fn):
    data = copy.deepcopy(BASE)
    fn(data)
    return data


BAD_DATA = {
    "unknown_top_field": (lambda d: d.update({"项目负责人": "张三"}), ["未知字段", "项目负责人"]),
    "unknown_indicator_field": (lambda d: d["绩效指标"][1].update({"备注": "x"}), ["绩效指标第2项", "备注"]),
    "non_numeric_amount": (lambda d: d["资金"]["当年财政拨款"].update({"全年预算数": "十万"}),
                           ["资金.当年财政拨款.全年预算数", "十万"]),
    "unparseable_target": (lambda d: d["绩效指标"][1].update({"指标值": "≥九成"}), ["绩效指标第2项", "指标值", "≥九成"]),
    "weights_do_not_add_up": (lambda d: d["绩效指标"][1].update({"分值": 25}), ["分值", "合计为 85", "90"]),
    "level1_not_in_profile": (lambda d: d["绩效指标"][1].update({"一级指标": "社会指标"}),
                              ["绩效指标第2项", "一级指标", "社会指标"]),
    "qualitative_score_outside_band": (lambda d: d["绩效指标"][2].update({"自评分": 5}),
                                       ["绩效指标第3项", "自评分", "达成"]),
}


def _assert_rejected(proc: subprocess.CompletedProcess, cwd: Path, before: set[str], needles: list[str]) -> None:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, f"exit {proc.returncode}\n{out}"
    assert "Traceback" not in out
    assert proc.stderr.startswith("错误："), proc.stderr
    assert CHINESE.search(proc.stderr)
    for needle in needles:
        assert needle in proc.stderr, f"{needle!r} not in {proc.stderr!r}"
    after = {p.name for p in cwd.iterdir()}
    assert after == before, f"files written: {after - before}"


def test_base_data_is_valid(tmp_path):
    """The unmutated data fills fine, so each mutation below is what gets rejected."""
    _write_yaml(tmp_path / "data.yaml", BASE)
    proc = run_jxzp("fill", str(template_for("national")), "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("case", BAD_DATA)
def test_bad_data_rejected(case, tmp_path):
    mutate, needles = BAD_DATA[case]
    _write_yaml(tmp_path / "data.yaml", _mutate(mutate))
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", str(template_for("national")), "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, needles + ["data.yaml"])
    assert "未生成文件" in proc.stderr


def test_malformed_yaml_rejected(tmp_path):
    (tmp_path / "data.yaml").write_text("评分规则: national\n绩效指标: [\n  - {一级指标: 产出指标\n", encoding="utf-8")
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", str(template_for("national")), "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["data.yaml", "格式错误", "line 3"])


def test_missing_data_file(tmp_path):
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", str(template_for("national")), "nosuch.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["nosuch.yaml", "找不到数据文件"])


def test_missing_template(tmp_path):
    _write_yaml(tmp_path / "data.yaml", BASE)
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", "nosuch.xlsx", "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["nosuch.xlsx", "找不到"])


def test_foreign_workbook_as_template(tmp_path):
    _write_yaml(tmp_path / "data.yaml", BASE)
    openpyxl.Workbook().save(tmp_path / "blank.xlsx")
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", "blank.xlsx", "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["blank.xlsx", "不是本系统生成的模板"])


def test_non_zip_template(tmp_path):
    _write_yaml(tmp_path / "data.yaml", BASE)
    (tmp_path / "fake.xlsx").write_text("这不是工作簿\n", encoding="utf-8")
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", "fake.xlsx", "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["fake.xlsx", "不是 Excel 工作簿"])


def test_existing_output_not_overwritten_without_force(tmp_path):
    _write_yaml(tmp_path / "data.yaml", BASE)
    out = tmp_path / "out.xlsx"
    out.write_bytes(b"precious")
    stat = out.stat()
    before = {p.name for p in tmp_path.iterdir()}
    proc = run_jxzp("fill", str(template_for("national")), "data.yaml", "-o", "out.xlsx", cwd=tmp_path)
    _assert_rejected(proc, tmp_path, before, ["out.xlsx", "已存在", "--force"])
    assert out.read_bytes() == b"precious"
    assert out.stat().st_mtime_ns == stat.st_mtime_ns

    proc = run_jxzp("fill", str(template_for("national")), "data.yaml", "-o", "out.xlsx", "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert zipfile.is_zipfile(out)
    assert zip_names(out) == zip_names(template_for("national"))


def test_errors_in_process_return_2(tmp_path, capsys):
    """``main()`` returns the exit code instead of raising."""
    code, out, err = run_main(capsys, "fill", str(template_for("national")), str(tmp_path / "nosuch.yaml"),
                              "-o", str(tmp_path / "out.xlsx"))
    assert code == 2
    assert "找不到数据文件" in err and "Traceback" not in out + err
    assert not (tmp_path / "out.xlsx").exists()


# ----------------------------------------------------------------------------- 3. names and tampering

@pytest.mark.parametrize("template", sorted(TEMPLATE_DIR.glob("xmzc-*.xlsx")), ids=lambda p: p.stem)
def test_names_json(template, capsys):
    code, out, err = run_main(capsys, "names", str(template), "--json")
    assert code == 0, err
    report = json.loads(out)
    items = {i["名称"]: i["引用"] for i in report["名称"]}
    layout = project_layout(template.stem[len("xmzc-"):])
    for name in REQUIRED_NAMES:
        assert name in items, f"names --json lacks {name}"
        assert items[name] == layout.names[name]
    assert not any(n.startswith("_xlnm") for n in items)
    assert report["标识"]["评分规则"] == layout.profile.id
    assert report["标识"]["版式指纹"] == layout.fingerprint()


def test_names_text(capsys):
    code, out, err = run_main(capsys, "names", str(template_for("national")))
    assert code == 0, err
    assert "总分" in out and "'自评表'!$K$" in out


def test_score_detects_tampered_total(filled, tmp_path, capsys):
    seed = "seed003-p1.yaml"
    pid = seed_profile(seed)
    path = tmp_path / "tampered.xlsx"
    path.write_bytes(filled[seed].read_bytes())
    ref = name_cell(pid, "总分")
    xml = zip_members(path)[SHEET_MEMBER].decode("utf-8")
    pattern = re.compile(rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>)?<v>)([^<]*)(</v>)')
    assert len(pattern.findall(xml)) == 1
    xml = pattern.sub(r"\g<1>100\g<3>", xml)
    rewrite_member(path, SHEET_MEMBER, xml.encode("utf-8"))
    assert calamine_value(path, "自评表", ref) == 100

    code, out, err = run_main(capsys, "score", str(path), "--json")
    assert code == 1, out + err
    report = json.loads(out)
    assert report["不一致"] >= 1
    row = next(r for r in report["结果"] if r["名称"] == "总分")
    assert row["工作簿"] == 100 and row["一致"] is False
    assert row["程序计算"] == pytest.approx(SEEDS[seed][0])

    proc = run_jxzp("score", str(path), cwd=tmp_path)
    assert proc.returncode == 1
    assert "不一致" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


def test_score_text_on_filled_seed(filled):
    proc = run_jxzp("score", str(filled["seed004.yaml"]), cwd=filled["seed004.yaml"].parent)
    assert proc.returncode == 0, proc.stderr
    assert "总分" in proc.stdout and "98" in proc.stdout
    assert "不一致" not in proc.stdout


def test_score_on_foreign_workbook(tmp_path):
    openpyxl.Workbook().save(tmp_path / "blank.xlsx")
    proc = run_jxzp("score", "blank.xlsx", cwd=tmp_path)
    assert proc.returncode == 2
    assert "不是本系统模板生成的工作簿" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


# ----------------------------------------------------------------------------- 4. demo

def test_demo(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    code, out, err = run_main(capsys, "demo", "-o", str(out_dir))
    assert code == 0, err
    for pid in list_profiles():
        built = out_dir / "templates" / f"xmzc-{pid}.xlsx"
        assert built.exists(), f"demo did not build {built.name}"
        assert built.read_bytes() == template_for(pid).read_bytes()
    examples = sorted(EXAMPLE_DIR.glob("*.yaml"))
    assert examples
    totals = dict(re.findall(r"自评表：(\S+?\.xlsx).*?总分 ([\d.]+)", out))
    for ex in examples:
        wb = out_dir / f"{ex.stem}.xlsx"
        assert wb.exists(), f"demo did not fill {wb.name}"
        assert str(wb) in totals, f"demo did not print 总分 for {wb.name}:\n{out}"
        code2, out2, err2 = run_main(capsys, "score", str(wb), "--json")
        assert code2 == 0, err2
        report = json.loads(out2)
        assert report["不一致"] == 0
        total = next(r["程序计算"] for r in report["结果"] if r["名称"] == "总分")
        assert float(totals[str(wb)]) == pytest.approx(total, abs=0.005)
    # the collect line: the forms filled in are the three filled statuses, not the one status called 已填报
    line = next(x for x in out.splitlines() if x.startswith("回收汇总："))
    counts = {k: int(v) for k, v in re.findall(r"(已填报|有错误|已通过) (\d+)", line.split("→")[0])}
    filled = re.search(r"已填写的 (\d+) 张（有错误、已填报、已通过）中发现错误 \d+ 项", line)
    assert filled and int(filled.group(1)) == sum(counts.values()), line


@pytest.mark.parametrize("argv,expected", [
    (["fill", "a.xlsx"], "缺少参数 DATA。"), (["nope"], "没有命令 nope。"), (["check", "--bogus", "x"], "没有选项 --bogus。"),
    (["bulk", "x.xlsx", "--jobs", "z", "-o", "y"], "“z”不是有效的数字"), (["fill", "a", "b"], "缺少选项 -o/--output。")])
def test_usage_errors_are_in_chinese(capsys, argv, expected):
    from xlsx_engine.cli.main import main
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("用法错误：") and expected in err and "Traceback" not in err


@pytest.mark.parametrize("args", [("score", "--json"), ("score",), ("names", "--json"), ("check", "--json")])
def test_output_is_valid_utf8_whatever_bytes_a_file_name_holds(args, filled, tmp_path):
    """A returned file named with bytes that are not UTF-8 (a unit's old Windows code page) and a control
    character: the output of a real process decodes as UTF-8 and the name is shown escaped, never raw."""
    seed = next(iter(SEEDS))
    folder = tmp_path / "回收"
    folder.mkdir()
    name = os.fsencode(folder) + b"/\xb2\xe2\xca\xd4\x1b[31m.xlsx"     # GBK "测试" + an ANSI escape
    shutil.copy(filled[seed], name)
    env = {k: v for k, v in os.environ.items() if k != "JXZP_DEBUG"}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONIOENCODING", None)
    proc = subprocess.run([sys.executable, "-m", "xlsx_engine.cli", args[0], os.fsdecode(name), *args[1:]],
                          cwd=tmp_path, env=env, capture_output=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr.decode("utf-8", "replace")
    out = proc.stdout.decode("utf-8")                        # strict: raises on any invalid byte
    assert "\x1b" not in out and "\\x1b[31m.xlsx" in out.replace("\\\\", "\\")
    if "--json" in args:
        json.loads(out)


@pytest.mark.parametrize("command", ["fill", "narrative"])
def test_a_folder_where_the_output_goes_is_the_users_error(command, tmp_path, capsys):
    """-o naming an existing folder (with --force): a Chinese answer naming it, exit 2, nothing left behind."""
    example = ROOT / "examples" / "2023-城乡医疗救助补助资金.yaml"
    target = tmp_path / ("表.xlsx" if command == "fill" else "报告.docx")
    target.mkdir()
    args = (["fill", str(TEMPLATE_DIR / "xmzc-national.xlsx"), str(example)] if command == "fill"
            else ["narrative", str(example)])
    code, out, err = run_main(capsys, *args, "-o", str(target), "--force")
    assert code == 2 and "内部错误" not in err and "Traceback" not in err
    assert f"{target}：该位置已有同名的文件夹" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]      # no temporary file left


@pytest.mark.parametrize("args", [["--help"], ["collect", "--help"], ["narrative", "--help"], ["master", "--help"],
                                  ["master", "new", "--help"], ["addin", "--help"], ["addin", "install", "--help"]])
def test_help_says_in_chinese_what_each_command_and_option_does(args, capsys, monkeypatch):
    """Every help page a user opens: each command listed with its description (none cut to “...”), and -h/--help
    and --version said in Chinese, on the plugin commands and the commands under a group too."""
    monkeypatch.setenv("COLUMNS", "80")
    with pytest.raises(SystemExit) as exit_:
        from xlsx_engine.cli.main import cli
        cli.main(args=args, prog_name="jxzp")
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "Show this message" not in out and "Show the version" not in out, out
    assert "--help  " in out and "显示本帮助并退出" in out
    listed = out.split("Commands:")[1].splitlines() if "Commands:" in out else []
    assert not [line for line in listed if line.rstrip().endswith("...")], out
