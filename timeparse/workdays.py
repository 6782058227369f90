"""Official working days in mainland China: holidays and 调休 make-up workdays.

The calendar comes from the ``chinese-calendar`` package (State Council
notices, updated each year when the next year's schedule is published).
Outside the years it knows, we fall back to Monday–Friday rather than refuse to
compute a deadline, and say so: ``unknown_holiday_year`` names the first such
year a count ran into, for the reply to mention (parse_when puts it on
``When.holidays_unknown``).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

from .budget import HORIZON_YEARS, MAX_WORKING_DAYS, check
from .errors import TimeParseError
from .zones import local_to_utc, require_aware, to_local

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


@lru_cache(maxsize=1)
def holiday_years() -> tuple[int, int]:
    """The first and last year chinese-calendar has the official holidays of."""
    from chinese_calendar.constants import holidays

    years = [day.year for day in holidays]
    return min(years), max(years)


def _known(year: int) -> bool:
    first, last = holiday_years()
    return first <= year <= last


def is_working_day(day: date) -> bool:
    """True on an official working day (including a make-up Saturday/Sunday)."""
    if _known(day.year):
        return bool(chinese_calendar.is_workday(day))
    if day.year not in _warned_years:
        _warned_years.add(day.year)
        log.warning("chinese-calendar has no holiday data for %d; counting Monday-Friday as working days", day.year)
    return day.weekday() < 5


def unknown_holiday_year(start: date, end: date) -> int | None:
    """The first year from ``start`` to ``end`` (either order) whose holidays are unknown."""
    low, high = min(start, end), max(start, end)
    return next((year for year in range(low.year, high.year + 1) if not _known(year)), None)


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself is not counted).

    ``n == 0`` gives ``start`` when it is a working day, else the next working
    day; a negative ``n`` counts backwards.

    Raises TimeParseError (time.too_far) beyond the horizon: counting day by day to a
    year 270,000 years ahead is what a typing mistake would otherwise cost.
    """
    if abs(n) > MAX_WORKING_DAYS:
        raise TimeParseError("time.too_far", text=f"{n}", years=HORIZON_YEARS)
    step = 1 if n >= 0 else -1
    day = start
    if n == 0:
        while not is_working_day(day):
            check()
            day += timedelta(days=1)
        return day
    remaining = abs(n)
    while remaining:
        check()
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
