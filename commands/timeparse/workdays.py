"""Official working days in mainland China: holidays and 调休 make-up workdays.

The calendar comes from the ``chinese-calendar`` package (State Council
notices, updated each year when the next year's schedule is published).
Outside the years it knows, we fall back to Monday–Friday and log a warning
once per year, rather than refuse to compute a deadline.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar

from .zones import local_to_utc, require_aware, to_local

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


def is_working_day(day: date) -> bool:
    """True on an official working day (including a make-up Saturday/Sunday)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "chinese-calendar has no holiday data for %d; counting Monday-Friday as working days",
                day.year,
            )
        return day.weekday() < 5


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` gives ``start`` when it is a working day, else the next working
    day; a negative ``n`` counts backwards.
    """
    step = 1 if n >= 0 else -1
    day = start
    if n == 0:
        while not is_working_day(day):
            day += timedelta(days=1)
        return day
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day):
            remaining -= 1
    return day


def deadline_in_working_days(
    now: datetime, n: int, tz: str = "Asia/Shanghai", end_of_day: time = time(18, 0)
) -> datetime:
    """``end_of_day`` on the ``n``-th working day after today (in ``tz``), as aware UTC.

    The count starts from the user's local date, not UTC's: at 01:30 in
    Shanghai "3 working days" counts from that Shanghai day.
    """
    today = to_local(require_aware(now), tz).date()
    day = add_working_days(today, n)
    return local_to_utc(datetime.combine(day, end_of_day), tz).astimezone(UTC)
