"""Against the seeds (issue #14 item 6): with the facts the real reports of seeds 003 (two projects) and 004
give entered as 其他信息, the generated report has every section the real report has, with its numbers.
The section-by-section comparison is in docs/narrative-seeds.md."""

from __future__ import annotations

from pathlib import Path

from xlsx_engine.narrative.engine import Narrator, from_data_file
from xlsx_engine.narrative.slips import find_slips

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "tests" / "data" / "seeds"

#: what seed 003's report says that the 自评表 cannot (abridged from the real report)
SEED003_UNIT = {
    "单位名称": "洪山区医疗保障局", "报告日期": "2020-05-20", "预算资金总额": 67.56,
    "自评依据": "《区财政局关于开展2019年度财政支出预算执行情况绩效自评工作的通知》",
    "自评工作开展情况": ["以2019年部门决算为依据，与财政部门对账，确保项目经费数据真实准确",
                 "制定绩效自评工作方案", "了解各项目绩效指标完成情况及预算资金执行情况，收集相关证明资料",
                 "根据分析后的情况评分，确定绩效自评等级", "撰写绩效自评综合报告，按时上交洪山区财政局"],
    "存在问题": ["由于绩效管理工作在洪山区属启动阶段，各单位专业程度不足，无法独立完成绩效相关工作",
             "因疫情原因自评通知到要求单位提交报告的时长较短，留给单位开展自评的时间少",
             "各个单位对自评工作的重视程度较低"],
    "改进建议": ["区财政局加大对区内各单位的培训力度，提升绩效自评的质量",
             "各单位需提前熟悉绩效自评工作的内容，在年底找业务科室了解指标完成情况并收集相关资料",
             "反复向各单位强调绩效工作的重要性，将单位绩效与预算联系起来"],
}
SEED003_P1 = {
    "项目背景": "医疗保障局是党的十九大机构改革新成立的部门之一，将基本医疗保险、补充医疗保险、医疗救助三项职能整合",
    "立项依据": "《武汉市洪山区机构改革方案》；《中共洪山区委、洪山区人民政府关于洪山区机构改革的实施意见》",
    "项目构成": [{"名称": "医疗保障局开办费", "合计": 30}, {"名称": "购置执法装备", "合计": 5},
             {"名称": "党建工作经费", "合计": 1}, {"名称": "聘请法律顾问", "合计": 3},
             {"名称": "文明创建工作经费", "合计": 1}],
    "资金管理情况": "根据《洪山区财政局关于2019年一般公共预算的批复》及年中预算调整请示文件，预算批复资金为40万元，"
              "实际到位资金为40万元，资金到位率100%",
    "存在问题": ["未设置“群众对部门工作的满意度”指标，对本项工作重视程度不够"],
    "改进建议": ["增强服务意识，强化工作满意度评价及调查工作"],
}
SEED003_P2 = {
    "项目背景": "为配合国家打击欺诈骗取医保基金专项行动，坚决打击欺诈骗保行为，守护医保基金安全",
    "立项依据": "武汉市医疗保障局、武汉市财政局关于印发《武汉市欺诈骗取医保基金行为举报奖励实施细则》的通知（武医保【2019】36号）",
    "项目构成": [{"名称": "打击欺诈骗保专项治理工作经费", "合计": 27.56}],
    "存在问题": ["未设置“群众对部门工作的满意度”指标，对本项工作重视程度不够"],
    "改进建议": ["增强服务意识，强化工作满意度评价及调查工作，后期纳入管理工作"],
}
SEED004 = {
    "报告日期": "2021-05-06",
    "资金管理情况": "项目资金指标全部下达至银川市医保局，实行专项资金管理，专款专用",
    "存在问题": ["人员身份认定部门间推送不及时，系统更新不及时，造成部分参保人员退费再参保情况发生"],
    "改进建议": ["提高思想认识，加强意识形态教育工作", "提高医保人员素质，加强干部队伍建设"],
    "结果应用": "绩效目标已公开",
    "其他说明": "无",
}

#: the sections of the real reports, in order (seed texts, /work/shared/seeds/003_*.txt and 004_*.txt)
SEED003_SECTIONS = ["一、绩效自评工作开展情况", "二、本报告包含项目的自评结果", "三、各项目自评情况",
                    "1-1、项目基本情况", "项目背景", "立项依据", "项目构成", "1-2、项目绩效目标",
                    "1-3、绩效目标实现情况分析", "资金情况分析", "绩效指标完成情况分析", "1-4、自评结果",
                    "1-5、主要问题和改进措施", "2-1、项目基本情况", "2-5、主要问题和改进措施",
                    "四、绩效自评工作的经验、问题和建议", "主要问题", "建议", "附件"]
SEED004_SECTIONS = ["一、绩效目标分解下达情况", "二、绩效目标完成情况分析", "资金投入情况分析", "项目资金执行情况分析",
                    "项目资金管理情况分析", "总体绩效目标完成情况分析", "绩效指标完成情况分析",
                    "三、偏离绩效目标的原因和下一步改进措施", "四、绩效自评结果拟应用和公开情况",
                    "五、其他需要说明的问题", "附件", "项目支出绩效自评表", "（2020年度）"]


def seed003_report():
    inputs = [from_data_file(SEEDS / "seed003-p1.yaml", extra=SEED003_P1),
              from_data_file(SEEDS / "seed003-p2.yaml", extra=SEED003_P2)]
    return Narrator().multi_report(inputs, SEED003_UNIT)


def seed004_report():
    return Narrator().report(from_data_file(SEEDS / "seed004.yaml", extra=SEED004))


def _in_order(text: str, sections: list[str]) -> None:
    pos = 0
    for s in sections:
        found = text.find(s, pos)
        assert found >= 0, s
        pos = found + len(s)


def test_seed003_covers_every_section_with_its_numbers():
    r = seed003_report()
    text = r.text()
    _in_order(text, SEED003_SECTIONS)
    for figure in ("涉及预算资金67.56万元", "自评覆盖率100%", "机关建设及日常保障经费\t40.00\t39.96\t90.98\t优",
                   "27.56\t27.34\t92.84\t优", "预算执行率99.9%", "结余0.04万元", "结余资金年底已退回财政",
                   "本项目自评总分90.98分", "本项目自评总分92.84分", "医疗保障局开办费30万元",
                   "扣7分", "扣5分", "由于绩效管理工作在洪山区属启动阶段", "区财政局加大对区内各单位的培训力度",
                   "2020年5月20日"):
        assert figure in text, figure
    assert not find_slips(r.markup, r.context["projects"], info=r.context["info"], totals=r.context["totals"])


def test_seed004_covers_every_section_with_its_numbers():
    r = seed004_report()
    text = r.text()
    _in_order(text, SEED004_SECTIONS)
    for figure in ("全年预算数108万元", "预算执行率100%", "专款专用", "项目自评总分98分", "评价等次为“优”",
                   "人员身份认定部门间推送不及时", "绩效目标已公开", "2021年5月6日", "填报单位（盖章）：银川市金凤区医疗保障局"):
        assert figure in text, figure
    assert not find_slips(r.markup, [r.context], info=r.context["info"])
