import pytest

from xlsx_engine.kernel.targets import (
    TargetSyntaxError,
    looks_like_target,
    normalize_op,
    parse_quantity,
    parse_target,
)


@pytest.mark.parametrize("text,op,value,unit", [
    ("≥95%", "≥", 95, "%"), ("≤90万元", "≤", 90, "万元"), ("=8个", "＝", 8, "个"), ("100%", "＝", 100, "%"),
    ("≥2次", "≥", 2, "次"), ("108 万元", "＝", 108, "万元"), ("≥100百分比", "≥", 100, "%"), ("≥ 95 ％", "≥", 95, "%"),
    ("＞3", "＞", 3, ""), (">=90%", "≥", 90, "%"), ("<5天", "＜", 5, "天"), ("不低于90%", "≥", 90, "%"),
    ("90%以上", "≥", 90, "%"), ("≤5000元/人", "≤", 5000, "元/人"), ("1,200人次", "＝", 1200, "人次"), (5, "＝", 5, ""),
])
def test_parse_quantitative_targets(text, op, value, unit):
    t = parse_target(text)
    assert (t.op, t.value, t.unit) == (op, value, unit)


@pytest.mark.parametrize("text", ["及时", "达成预期指标", "全面覆盖", "明显提高", "优", "按期完成"])
def test_phrases_are_qualitative(text):
    t = parse_target(text)
    assert t.op == "定性" and t.value is None and t.text == text


@pytest.mark.parametrize("text", ["≥九成", "≥", ">=abc", "≥95%以下", ""])
def test_unparseable_targets_raise(text):
    with pytest.raises(TargetSyntaxError):
        parse_target(text)


def test_actual_values_and_operators():
    assert parse_quantity("96%") == (96, "%") and parse_quantity("3次") == (3, "次")
    assert parse_quantity("≥95%") is None and parse_quantity("完成") is None
    assert looks_like_target("≥95%") and looks_like_target("＞90") and not looks_like_target("95%")
    assert normalize_op(">=") == "≥" and normalize_op("定性") == "定性" and normalize_op("约") is None
