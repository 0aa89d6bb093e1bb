"""Working days: weekends off, configurable holidays, and 调休 workdays (a Saturday or Sunday worked)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable


def is_workday(day: dt.date, holidays: frozenset = frozenset(), workdays: frozenset = frozenset()) -> bool:
    """Monday–Friday unless a holiday; a 调休 workday (Saturday/Sunday) counts."""
    return day in workdays or (day.weekday() < 5 and day not in holidays)


def working_days_late(deadline: dt.date, submitted: dt.date, holidays: Iterable[dt.date] = (),
                      workdays: Iterable[dt.date] = ()) -> int:
    """Working days after ``deadline`` up to and including ``submitted`` (0 when on time)."""
    hol, work = frozenset(holidays), frozenset(workdays)
    days = (deadline + dt.timedelta(days=k) for k in range(1, (submitted - deadline).days + 1))
    return sum(1 for day in days if is_workday(day, hol, work))
