"""The severity of every finding code of ``jxzp check`` — the one table the README's 校验级别 section shows.

* 错误 — the table contradicts itself: its sums, rates, scores, total or grade do not follow from its own
  printed figures, or one of our workbooks contradicts its template (altered formulas, names, identity).
  ``jxzp check`` exits 1 only on these.
* 警告 — the table is consistent but differs from the rules of the profile in force (stated with
  ``--profile`` or inferred from the table): weights, scoring rules, rounding, indicator levels.
* 提示 — incomplete or style: missing fields, unstated bases, which profile was inferred.

A code whose severity depends on where it is found (``None`` here) takes the severity its caller gives:
a macro or removed protection is an 错误 in one of our templates and a 警告 in a table not made by us.
"""

from __future__ import annotations

from xlsx_engine.kernel.findings import ERROR, INFO, WARNING

#: code -> (severity or None, what it means — the README table's wording)
SEVERITY: dict[str, tuple[str | None, str]] = {
    # --- 错误: the table contradicts itself
    "fund_sum": (ERROR, "年度资金总额 ≠ 各资金来源之和"),
    "fund_balance": (ERROR, "结余 ≠ 实际到位 − 实际支出"),
    "rate_mismatch": (ERROR, "执行率 ≠ 全年执行数/全年预算数（按印出的位数）"),
    "rate_na_shown": (ERROR, "预算数为 0 或空，却印出执行率"),
    "score_over_weight": (ERROR, "得分超过该项分值"),
    "label_score_over": (ERROR, "一级指标标签“(N分)”下各行得分合计超过 N（行上未印分值）"),
    "weight_label": (ERROR, "一级指标标签“(N分)”与其下各行分值之和不符"),
    "label_total_over": (ERROR, "资金分值与一级指标标签分值之和超过总分的分值"),
    "total_weight_mismatch": (ERROR, "总分的分值 ≠ 各部分分值之和"),
    "total_sum": (ERROR, "总分 ≠ 各部分得分之和"),
    "total_conflict": (ERROR, "表中两处总分不一致"),
    "grade_mismatch": (ERROR, "等次与总分不符"),
    "cached_mismatch": (None, "本系统模板：公式结果与填报数据不符（文字提示单元格为警告）"),
    "duplicate_part": (ERROR, "压缩包中有只差大小写的重复部件（如两个共享字符串表），各软件读到的内容不同"),
    "formula_replaced": (ERROR, "本系统模板：公式被改为数值"),
    "formula_edited": (ERROR, "本系统模板：公式被改动"),
    "formula_added": (ERROR, "本系统模板：输入单元格被写入公式"),
    "const_changed": (ERROR, "本系统模板：规则常数被改动"),
    "dict_changed": (ERROR, "本系统模板：字典表被改动"),
    "label_changed": (ERROR, "本系统模板：标签被改动"),
    "name_broken": (ERROR, "本系统模板：名称（命名区域）损坏"),
    "name_deleted": (ERROR, "本系统模板：名称被删除"),
    "name_moved": (ERROR, "本系统模板：名称指向别处"),
    "rows_deleted": (ERROR, "本系统模板：行被删除"),
    "rows_inserted": (ERROR, "本系统模板：插入了行"),
    "sheet_deleted": (ERROR, "本系统模板：工作表被删除"),
    "sheet_renamed": (ERROR, "本系统模板：工作表被改名"),
    "fingerprint_mismatch": (ERROR, "本系统模板：版式指纹与模板不符"),
    "meta_inconsistent": (ERROR, "本系统模板：两处模板标识不一致"),
    "version_mismatch": (ERROR, "本系统模板：模板版本与本程序不符"),
    "profile_unknown": (ERROR, "本系统模板：模板标识中的评分规则不存在"),
    "unreadable": (ERROR, "文件无法读取（退出码 2）"),
    "internal": (ERROR, "内部错误"),
    "macro": (None, "含宏：本系统模板为错误，外来表格为警告"),
    "protection_removed": (None, "保护被撤销：本系统模板为错误，外来表格为警告"),
    # --- 警告: differs from the rules of the profile in force
    "fund_weight": (WARNING, "资金分值与评分规则不符"),
    "weight_indicators": (WARNING, "指标分值合计与评分规则不符"),
    "weight_level1": (WARNING, "一级指标分值与评分规则不符"),
    "weight_total": (WARNING, "本系统模板：分值合计与评分规则不符"),
    "target_block": (WARNING, "表中有目标自评分，评分规则没有此项"),
    "target_weight": (WARNING, "目标分值与评分规则不符"),
    "fund_score": (WARNING, "资金得分 ≠ 分值×执行率（含取整到整数）"),
    "score_mismatch": (WARNING, "指标得分与评分规则的计分不符"),
    "total_mismatch": (WARNING, "总分与按评分规则重算的总分不符"),
    "unexplained_deduction": (WARNING, "各指标均达标，总分却有扣分且未说明"),
    "score_without_actual": (WARNING, "没有实际完成值却得分"),
    "actual_is_target": (WARNING, "实际完成值照抄了指标值"),
    "pct_as_written": (WARNING, "度量单位为%、指标值不大于 1：完成值未换算，按所填数值计分"),
    "pct_one": (WARNING, "度量单位为%：完成值 1 按 100% 计分"),
    "pct_scaled": (WARNING, "度量单位为%、反向指标：小数完成值按 ×100 计分（0.5 按 50%）"),
    "grade_invalid": (WARNING, "等次不是评分规则规定的等次"),
    "bad_level1": (WARNING, "一级指标不在评分规则中"),
    "bad_level2": (WARNING, "二级指标不属于该一级指标"),
    "out_of_band": (WARNING, "定性指标自评分不在所选档次范围内"),
    "over": (WARNING, "完成值大幅超过指标值，缺偏差原因"),
    "double_count_rate": (WARNING, "预算执行率既在资金部分又作为绩效指标计分"),
    "direction_suspect": (WARNING, "指标方向可能写反"),
    "rate_over_100": (WARNING, "执行数大于预算数"),
    "rate_no_percent": (WARNING, "执行率没有%号"),
    "target_score_range": (WARNING, "目标自评分超出分值范围"),
    "level1_missing": (WARNING, "未设置评分规则要求的一级指标"),
    "profile_mismatch": (WARNING, "本系统模板使用的评分规则不是要求的规则"),
    "self_check": (WARNING, "本系统模板（部门整体等）的自检提示"),
    "row_misaligned": (WARNING, "指标行可能错列"),
    "source_scored": (WARNING, "资金来源子行重复印了分值或得分"),
    "goal_text": (WARNING, "目标文字中的金额、数量与表中数字不符"),
    "report_text": (WARNING, "Word 自评报告正文中的执行率、总分、等次与其自评表不符"),
    "legacy_format": (WARNING, "旧版 .xls/.et：只按标签核对印出的数字"),
    "not_recognised": (WARNING, "未找到自评表，无法核对"),
    "file_format": (WARNING, "扩展名与内容不符"),
    "meta_missing": (WARNING, "文档属性中的模板标识缺失"),
    "sheet_added": (WARNING, "本系统模板：增加了工作表"),
    "extra_content": (WARNING, "本系统模板：表格区域外有内容"),
    "content_outside": (WARNING, "本系统模板：输入区域外有内容"),
    "merges_changed": (WARNING, "本系统模板：合并单元格被改动"),
    "password_changed": (WARNING, "本系统模板：保护密码被改动"),
    "structure_unprotected": (WARNING, "本系统模板：工作簿结构保护被撤销"),
    "validation_removed": (WARNING, "本系统模板：数据验证被删除"),
    "number_as_text": (WARNING, "本系统模板：金额或分值单元格中是文字形式的数字（按文字读取）"),
    "number_shown_as_date": (WARNING, "本系统模板：金额或分值单元格被设为日期格式（按所存数值读取）"),
    # --- 提示: incomplete or style
    "no_name": (INFO, "缺三级指标名称"),
    "no_weight": (INFO, "指标行缺分值"),
    "no_weights": (INFO, "表中没有印出分值（无分值列、无带分值的标签），分值类核对从略"),
    "own_output": (INFO, "是本程序生成的汇总表或考核评分表，不是交回的自评表，未核对"),
    "bad_op": (INFO, "缺年度指标值或无法识别"),
    "bad_target": (INFO, "定量指标的指标值不是数字"),
    "no_actual": (INFO, "缺实际完成值"),
    "actual_not_number": (INFO, "定量指标的实际完成值不是数字"),
    "bad_band": (INFO, "定性指标没有完成等级或得分"),
    "no_reason": (INFO, "未得满分，缺偏差原因"),
    "target_score_missing": (INFO, "缺目标自评分"),
    "no_score_columns": (INFO, "指标表没有分值或得分列"),
    "goal_actual_missing": (INFO, "年度总体目标缺实际完成情况"),
    "rate_na": (INFO, "预算数为 0 或空，执行率无法计算"),
    "rate_reason_missing": (INFO, "执行率偏低，缺说明"),
    "rate_base_unstated": (INFO, "执行率未注明计算口径"),
    "cost_equals_budget": (INFO, "成本指标照抄项目预算"),
    "profile_inferred": (INFO, "按表中分值推定的评分规则及理由"),
    "import_note": (INFO, "读取时的说明"),
    "truncated": (INFO, "同类问题过多，未逐一列出"),
    "cached_missing": (INFO, "本系统模板：公式没有保存计算结果"),
    "name_added": (INFO, "本系统模板：增加了名称"),
    "sheet_unhidden": (INFO, "本系统模板：隐藏工作表被显示"),
}


def severity_of(code: str, given: str) -> str:
    """The severity of a finding: the table's, or ``given`` for a code whose severity depends on context."""
    fixed = SEVERITY.get(code, (None, ""))[0]
    return fixed or given
