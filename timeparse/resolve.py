"""Turn a ``Spec`` into an instant: the one place that knows what the words mean.

Rules (all in the user's zone, on wall-clock time):
- Exact offsets (in 30 seconds, 2小时后) are added to ``now`` as instants, so they
  are never in the past and are exact across DST changes.
- Day words and calendar offsets (明天, 3天后, in 2 weeks) count local calendar days.
- A time of day alone (9:30, 下午3点, at 16, noon) is today, or tomorrow once
  today's has passed. A weekday alone (周五, friday) is the next one to come
  (today if its time is still ahead). 本周五 / this friday and 下周五 / next friday
  are in the current / next calendar week (weeks start on Monday) and never roll.
- Past words (昨天, 前天, 上周五, yesterday, last friday) never roll either: with
  ``prefer_future`` they raise ``time.in_past`` (understood, but gone), not ``time.unparsed``.
- A date without a year (11月30日, 12-01) is this year's, or next year's once past.
- A day of the month alone (30号) is this month's, or the next month that has it.
- No clock time: ``options.default_time`` (09:00), or ``options.end_of_day``
  (18:00) for deadlines (周五前, by friday, 下班前); 3天后 keeps the current time.
With ``prefer_future=False`` nothing rolls forward and the past is allowed
(for recording when something happened, e.g. the time field of a report).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from .budget import HORIZON_DAYS, HORIZON_YEARS, MAX_WORKING_DAYS, check
from .errors import TimeParseError
from .options import ParseOptions
from .spec import Period, Spec, WeekRef
from .workdays import add_working_days
from .zones import local_to_utc, to_local

_MAX_ROLLS = 60  # enough for 29 Feb (8 years) and day 31 (a few months)
_WEEK_OFFSETS = {
    WeekRef.WEEK_BEFORE: -2,
    WeekRef.LAST_WEEK: -1,
    WeekRef.THIS_WEEK: 0,
    WeekRef.NEXT_WEEK: 1,
    WeekRef.WEEK_AFTER: 2,
}


def clock_of(spec: Spec, options: ParseOptions, source: str) -> tuple[time, int] | None:
    """The clock time and a day shift (1 for 24:00 / 晚上12点 / 晚上1点)."""
    if spec.hour is None:
        if spec.period is None:
            return None
        return spec.period.default, 1 if spec.period is Period.MIDNIGHT else 0
    hour, minute = spec.hour, spec.minute or 0
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise TimeParseError("time.invalid_clock", text=source)
    if spec.meridiem is not None:
        if not 1 <= hour <= 12:
            raise TimeParseError("time.invalid_clock", text=source)
        hour = hour % 12 + (12 if spec.meridiem == "pm" else 0)
    elif spec.period in (Period.AFTERNOON, Period.DUSK) and hour < 12:
        hour += 12
    elif spec.period is Period.NOON and 1 <= hour <= 5:  # 中午1点
        hour += 12
    elif spec.period is Period.EVENING and hour <= 12:
        # 晚上8点 -> 20:00; 晚上12点 -> midnight; 晚上1点 -> 01:00 the next day.
        hour += 12 if hour >= 6 else 24
    elif spec.period is None and not spec.clock_24h and hour in options.pm_hours:
        hour += 12
    shift = 0
    if hour >= 24:
        hour -= 24
        shift = 1
    return time(hour, minute), shift


def _safe_date(year: int, month: int, day: int, source: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise TimeParseError("time.invalid_date", text=source) from exc


def _next_valid(year: int, month: int, day: int, *, step_months: int) -> date:
    """The first existing (year, month, day) from the given month on, stepping months."""
    cursor = date(year, month, 1)
    for _ in range(_MAX_ROLLS * 2):
        try:
            return date(cursor.year, cursor.month, day)
        except ValueError:
            cursor += relativedelta(months=step_months)
    raise ValueError("no such day")  # pragma: no cover - day <= 31 always exists eventually


def _too_far(source: str) -> TimeParseError:
    return TimeParseError("time.too_far", text=source, years=HORIZON_YEARS)


def check_horizon(spec: Spec, today: date, source: str) -> None:
    """Refuse counts and years beyond the horizon before any arithmetic: 999999999天后 would
    overflow the calendar, 99999999个工作日内 would be counted day by day for minutes."""
    limits = (
        (spec.working_days, MAX_WORKING_DAYS),
        (spec.day_offset, HORIZON_DAYS),
        (spec.month_offset, 12 * HORIZON_YEARS),
        (spec.year_end, HORIZON_YEARS),
        (spec.month_end, 12 * HORIZON_YEARS),
    )
    if any(value is not None and abs(value) > limit for value, limit in limits):
        raise _too_far(source)
    if spec.delta is not None and abs(spec.delta.days) > HORIZON_DAYS:
        raise _too_far(source)
    if spec.year is not None and abs(spec.year - today.year) > HORIZON_YEARS:
        raise _too_far(source)


def _start_day(spec: Spec, today: date, source: str) -> tuple[date, Callable[[date], date] | None]:
    """The day the expression names, and how to move it forward if it is already past."""
    if spec.working_days is not None:
        return add_working_days(today, spec.working_days), None
    if spec.day_offset is not None or spec.month_offset is not None:
        day = today + relativedelta(months=spec.month_offset or 0, days=spec.day_offset or 0)
        return day, None
    if spec.weekday is not None:
        if spec.week_ref is WeekRef.UPCOMING:
            return today + timedelta(days=(spec.weekday - today.weekday()) % 7), lambda d: d + timedelta(7)
        if spec.week_ref is WeekRef.PREVIOUS:  # 1..7 days back, never today
            return today - timedelta(days=(today.weekday() - spec.weekday - 1) % 7 + 1), None
        monday = today - timedelta(days=today.weekday())
        return monday + timedelta(days=7 * _WEEK_OFFSETS[spec.week_ref] + spec.weekday), None
    if spec.month is not None and spec.day is not None:
        if spec.year is not None:
            return _safe_date(spec.year, spec.month, spec.day, source), None
        if not 1 <= spec.month <= 12 or not 1 <= spec.day <= 31 or (spec.month, spec.day) in {(2, 30), (2, 31)}:
            raise TimeParseError("time.invalid_date", text=source)
        month, dom = spec.month, spec.day
        first = _next_valid(today.year, month, dom, step_months=12)  # 2月29日 finds a leap year
        return first, lambda d: _next_valid(d.year + 1, month, dom, step_months=12)
    if spec.day is not None:
        if not 1 <= spec.day <= 31:
            raise TimeParseError("time.invalid_date", text=source)
        dom = spec.day
        first = _next_valid(today.year, today.month, dom, step_months=1)

        def next_month(d: date) -> date:
            following = date(d.year, d.month, 1) + relativedelta(months=1)
            return _next_valid(following.year, following.month, dom, step_months=1)

        return first, next_month
    if spec.month_end is not None:
        last = date(today.year, today.month, 1) + relativedelta(months=spec.month_end + 1, days=-1)

        def next_month_end(d: date) -> date:
            return date(d.year, d.month, 1) + relativedelta(months=2, days=-1)

        return last, next_month_end if spec.month_end == 0 else None
    if spec.year_end is not None:
        return date(today.year + spec.year_end, 12, 31), None
    if spec.end_of_week:
        friday = today + timedelta(days=(4 - today.weekday()) % 7)
        return friday, lambda d: d + timedelta(7)
    return today, lambda d: d + timedelta(1)


def resolve(
    spec: Spec,
    *,
    now: datetime,
    tz: str,
    prefer_future: bool,
    options: ParseOptions,
    source: str,
) -> datetime:
    """The aware-UTC instant that ``spec`` names, seen from ``now`` in zone ``tz``.

    ``source`` is the user's words, quoted in errors.
    """
    local_now = to_local(now, tz)
    check_horizon(spec, local_now.date(), source)
    if spec.delta is not None and not spec.has_date() and spec.hour is None and spec.period is None:
        return now + spec.delta
    day, roll = _start_day(spec, local_now.date(), source)
    clock = clock_of(spec, options, source)
    if clock is None:
        if spec.keep_clock:
            clock = (local_now.time().replace(second=0, microsecond=0), 0)
        elif spec.deadline or spec.end_of_day or spec.end_of_week:
            clock = (options.end_of_day, 0)
        else:
            clock = (options.default_time, 0)
    wall_time, shift = clock

    def instant(d: date) -> datetime:
        at = local_to_utc(datetime.combine(d, wall_time) + timedelta(days=shift), tz)
        return at + spec.delta if spec.delta is not None else at

    at = instant(day)
    if not prefer_future:
        return at
    if roll is not None:
        for _ in range(_MAX_ROLLS):
            check()
            if at > now:
                break
            day = roll(day)
            at = instant(day)
    if at <= now:
        raise TimeParseError("time.in_past", text=source)
    return at
