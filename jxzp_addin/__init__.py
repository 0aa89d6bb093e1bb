"""绩效自评 Excel 加载项：xlwings 外壳（功能区按钮与自定义函数）。

A thin shell over the core (:mod:`xlsx_engine`), which never imports xlwings:

* :mod:`jxzp_addin.registry` — the whitelist. The ribbon's single VBA callback
  (``macros/JxzpRibbon.bas``) passes a button's tag to :func:`registry.dispatch`,
  which runs only an entry point registered under that tag, on ``xw.Book.caller()``.
* :mod:`jxzp_addin.entry_points` — 重新计算, 校验, 生成综述, 导出自评报告, 批量生成, 汇总回收, 关于.
* :mod:`jxzp_addin.session` — the calling workbook seen through xlwings' public API
  (values, names, formulas, fills), protection and dialogs.
* :mod:`jxzp_addin.udfs` — custom functions (JXZP_RATE, JXZP_SCORE, JXZP_GRADE, JXZP_SUMMARY).
* :mod:`jxzp_addin.build` — builds ``jxzp.xlam`` from xlwings' ribbon add-in scaffold with
  the sources in ``macros/`` (pyOpenVBA); :mod:`jxzp_addin.install` wraps xlwings' installer.
* :mod:`jxzp_addin.cli_addin` — ``jxzp addin build | install | remove | list``.

Only the open-source xlwings API is used at run time (``RunPython``, ``xw.Book.caller()``,
ranges, names, alerts and, on Windows, the COM object behind ``.api`` for protection and
dialogs). Importing this package, the registry, the builder or the CLI does not import xlwings.
"""

__version__ = "0.1.0"
