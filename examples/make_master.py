"""Generate the example master workbook examples/总表示例.xlsx (200 projects over 40 units).

Deterministic (fixed seed). Run: ``python examples/make_master.py``. About a quarter of the projects
carry no actual values (distribution: units fill them in); the others are complete (regeneration).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from xlsx_engine.bureau.master import write_master  # noqa: E402

DISTRICTS = ["东城区", "西城区", "南湖区", "北山区", "高新区"]
#: department -> (project title, the short name its indicators use)
DEPARTMENTS = {
    "医疗保障局": [("城乡医疗救助补助资金", "医疗救助"), ("医保基金监管专项经费", "基金监管"), ("医保信息化建设经费", "医保信息化"),
              ("异地就医结算服务经费", "异地就医结算"), ("医保经办服务能力提升", "医保经办服务")],
    "教育局": [("学生资助补助资金", "学生资助"), ("义务教育薄弱环节改善", "薄弱环节改善"), ("教师培训专项经费", "教师培训"),
            ("校园安全设施改造", "校园安全设施"), ("学前教育发展资金", "学前教育")],
    "农业农村局": [("高标准农田建设资金", "高标准农田建设"), ("动物防疫补助经费", "动物防疫"), ("农业技术推广经费", "农技推广"),
              ("农村人居环境整治", "人居环境整治"), ("耕地地力保护补贴", "耕地地力保护")],
    "民政局": [("困难群众救助补助资金", "困难群众救助"), ("养老服务体系建设", "养老服务"), ("社区治理能力提升", "社区治理"),
            ("残疾人两项补贴", "残疾人补贴"), ("殡葬改革专项经费", "殡葬改革")],
    "卫生健康委员会": [("基本公共卫生服务", "基本公卫服务"), ("家庭医生签约服务", "家庭医生签约"), ("疾病预防控制经费", "疾病预防控制"),
                ("妇幼健康服务项目", "妇幼健康服务"), ("卫生应急能力建设", "卫生应急")],
    "交通运输局": [("农村公路养护资金", "农村公路养护"), ("公交运营补贴", "公交运营"), ("交通安全设施完善", "交通安全设施"),
              ("桥梁检测维修经费", "桥梁检测维修"), ("客运站改造资金", "客运站改造")],
    "生态环境局": [("大气污染防治资金", "大气污染防治"), ("水污染防治专项", "水污染防治"), ("环境监测能力建设", "环境监测"),
              ("土壤污染防治经费", "土壤污染防治"), ("生态环境执法经费", "环境执法")],
    "文化和旅游局": [("公共文化服务体系建设", "公共文化服务"), ("文物保护专项经费", "文物保护"), ("全民阅读推广活动", "全民阅读"),
               ("旅游公共服务设施", "旅游公共服务"), ("非遗保护传承经费", "非遗保护")],
}
COUNTS = ("人", "次", "个")    #: whole numbers
UNITS = [f"{d}{dep}" for d in DISTRICTS for dep in DEPARTMENTS]  # 40 units

QUANT = [  # (二级, name, op, target, unit)
    ("数量指标", "{}覆盖人数", "≥", 1000, "人"), ("数量指标", "开展{}活动次数", "≥", 12, "次"),
    ("数量指标", "完成{}项目个数", "≥", 8, "个"), ("质量指标", "{}验收合格率", "≥", 95, "%"),
    ("质量指标", "{}资金拨付准确率", "＝", 100, "%"), ("时效指标", "{}按期完成率", "≥", 90, "%"),
    ("成本指标", "{}人均成本", "≤", 900, "元/人"), ("成本指标", "{}项目总成本", "≤", 120, "万元"),
]
BENEFIT = [("社会效益指标", "{}政策知晓率", "≥", 85, "%"), ("经济效益指标", "{}带动相关投入", "≥", 50, "万元"),
           ("可持续影响指标", "{}长效机制建立", "定性", "有效建立", None),
           ("生态效益指标", "{}环境改善程度", "定性", "明显改善", None)]


def build() -> dict[str, list[list]]:
    rng = random.Random(20231231)
    rows: dict[str, list[list]] = {"单位": [], "项目": [], "资金": [], "指标": [], "目标": []}
    n = 0
    for unit in UNITS:
        dep = next(d for d in DEPARTMENTS if unit.endswith(d))
        district = unit[: -len(dep)]
        rows["单位"].append([unit, f"市{dep}", "张" + "伟芳敏静丽强磊军"[rng.randrange(8)], f"0731-8{rng.randrange(10**6):06d}"])
        for title, short in DEPARTMENTS[dep]:
            n += 1
            code = f"P{n:04d}"
            profile = "national-platform" if n % 7 == 0 else "national"
            complete = rng.random() < 0.75
            budget = round(rng.uniform(8, 600), 2)
            spent = round(budget * rng.choice([1.0, 1.0, 0.98, 0.95, 0.9, 0.85, 0.72]), 2)
            reason = "部分资金结转下年使用" if spent < budget * 0.9 else None
            rows["项目"].append([code, unit, f"2023年{district}{title}", profile, 2023, f"市{dep}",
                               reason if complete else None, None])
            carry = round(budget * 0.1, 2) if rng.random() < 0.3 else 0
            rows["资金"].append([code, "当年财政拨款", round(budget - carry, 2), round(budget - carry, 2),
                               round(spent - carry, 2) if complete else None])
            if carry:
                rows["资金"].append([code, "上年结转资金", 0, carry, carry if complete else None])
            rows["目标"].append([code, f"按计划完成{title}各项任务，资金使用规范，服务对象满意。",
                               "全年各项任务按计划完成。" if complete else None])
            quant = rng.sample(QUANT, 4)
            weights = [15, 15, 10, 10]
            for (l2, name, op, target, unit_), w in zip(quant, weights):
                actual = None
                why = None
                if complete:
                    factor = rng.choice([1.0, 1.05, 1.2, 0.92, 0.8, 1.4]) if op != "≤" else rng.choice([0.9, 1.0, 1.1])
                    actual = round(target * factor, 2) if op != "＝" else target
                    if unit_ in COUNTS:
                        actual = round(actual)
                    elif unit_ == "%":
                        actual = min(actual, 100)        # a rate above 100 % is not a result anyone reports
                    if (op in "≥＝" and actual < target) or (op == "≤" and actual > target):
                        why = "受项目实施进度影响未完全达到目标，下一步加强调度。"
                rows["指标"].append([code, "产出指标", l2, name.format(short), op, target, unit_, w, actual,
                                   None, None, why])
            for (l2, name, op, target, unit_), w in zip(rng.sample(BENEFIT, 2), (15, 15)):
                if op == "定性":
                    band = rng.choice(["达成", "达成", "部分达成"]) if complete else None
                    score = None if band != "部分达成" else 10
                    rows["指标"].append([code, "效益指标", l2, name.format(short), "定性", target, None, w,
                                       "已完成" if complete else None, band, score,
                                       "相关部门协同机制仍在完善中。" if band == "部分达成" else None])
                else:
                    actual = round(target * rng.choice([1.0, 1.1, 0.9]), 2) if complete else None
                    if actual is not None and unit_ == "%":
                        actual = min(actual, 100)
                    why = (("宣传覆盖面仍需扩大。" if unit_ == "%" else "社会资金投入不及预期，下一步加大引导。")
                           if complete and actual < target else None)
                    rows["指标"].append([code, "效益指标", l2, name.format(short), op, target, unit_, w, actual,
                                       None, None, why])
            sat = round(rng.uniform(86, 99), 1) if complete else None
            rows["指标"].append([code, "满意度指标", "服务对象满意度指标", "服务对象满意度", "≥", 90, "%", 10, sat, None,
                               None, "部分群众对办理时限不满意，将优化流程。" if sat is not None and sat < 90 else None])
    return rows


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "examples" / "总表示例.xlsx"
    write_master(out, build())
    print(f"已生成示例总表：{out}")
