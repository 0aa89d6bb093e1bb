"""绩效自评 Excel 引擎 (jxzp): scoring profiles, locked templates, fill, read-back and scoring.

Data flow, one module per step::

    profile (rules as data) -> layout (cells and formulas) -> builder (template .xlsx)
        -> filler (patch a copy with a record) -> reader (read a workbook back)
        -> scoring (the Python twin of every formula)

The core never imports xlwings or the command line.
"""

__version__ = "0.1.0"
