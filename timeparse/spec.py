"""What a grammar understood, before it is turned into an instant.

Both grammars (Chinese and English) fill the same ``Spec``; ``resolve.py`` is
the single place that knows what "tomorrow", "Friday" or "9:30" mean relative
to now, so that the two languages cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from enum import Enum

# Counts typed in chat are read as at most this: far beyond the horizon (budget.py), so that
# resolve refuses them as "too far", yet small enough for the calendar arithmetic never to
# overflow on the way (int() also refuses strings of more than 4,300 digits).
MAX_COUNT = 10**8


def count(digits: str) -> int:
    """The number a run of digits spells, capped at MAX_COUNT."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 9 else MAX_COUNT


def amount(number: str) -> float:
    """A decimal amount ("1.5"), capped at MAX_COUNT."""
    whole, _, fraction = number.partition(".")
    value = count(whole)
    return float(value) if value >= MAX_COUNT or not fraction else min(float(f"{value}.{fraction[:6]}"), MAX_COUNT)


class Period(Enum):
    """A part of the day. ``default`` is the time used when no clock time is given."""

    EARLY = "early"  # 凌晨
    MORNING = "morning"  # 早上, 早晨, 明早
    FORENOON = "forenoon"  # 上午, "morning" in English
    NOON = "noon"  # 中午, noon
    AFTERNOON = "afternoon"  # 下午, afternoon
    DUSK = "dusk"  # 傍晚
    EVENING = "evening"  # 晚上, 今晚, tonight, evening
    MIDNIGHT = "midnight"  # midnight: 00:00 at the end of the day

    @property
    def default(self) -> time:
        return _PERIOD_DEFAULTS[self]


_PERIOD_DEFAULTS: dict[Period, time] = {
    Period.EARLY: time(6, 0),
    Period.MORNING: time(8, 0),
    Period.FORENOON: time(9, 0),
    Period.NOON: time(12, 0),
    Period.AFTERNOON: time(14, 0),
    Period.DUSK: time(18, 0),
    Period.EVENING: time(20, 0),
    Period.MIDNIGHT: time(0, 0),
}


class WeekRef(Enum):
    """How a weekday is anchored: the next one to come, or in a given calendar week."""

    UPCOMING = "upcoming"  # 周五, friday: the next Friday (today if still ahead)
    THIS_WEEK = "this"  # 本周五, this friday (weeks start on Monday)
    NEXT_WEEK = "next"  # 下周五, next friday
    WEEK_AFTER = "after"  # 下下周五
    # The past, so that "that time is gone" can be told apart from "not understood".
    LAST_WEEK = "last"  # 上周五: in the previous calendar week
    WEEK_BEFORE = "before"  # 上上周五
    PREVIOUS = "previous"  # last friday: the most recent one before today


@dataclass
class Spec:
    """The parts of a time expression; all optional, at least one set."""

    # Exact offset from now (seconds, minutes, hours): DST-proof instant arithmetic.
    delta: timedelta | None = None
    # Calendar offsets from today's local date (天后, 周后, 个月后, tomorrow).
    day_offset: int | None = None
    month_offset: int | None = None
    working_days: int | None = None
    keep_clock: bool = False  # 3天后 without a clock time keeps the current wall time
    # A weekday (0 = Monday) and how it is anchored.
    weekday: int | None = None
    week_ref: WeekRef = WeekRef.UPCOMING
    # An explicit date; year may be None (this year or the next, whichever is ahead).
    year: int | None = None
    month: int | None = None
    day: int | None = None
    # 月底 / 年底: the last day of (this + n) month / year. Always a deadline.
    month_end: int | None = None
    year_end: int | None = None
    # Clock time.
    period: Period | None = None
    hour: int | None = None
    minute: int | None = None
    meridiem: str | None = None  # "am" / "pm"
    clock_24h: bool = False  # "03:00" or "15:00": never moved to the afternoon
    # Deadline words: 前/之前/by -> end of working day when no clock time; 下班前/EOD.
    deadline: bool = False
    end_of_day: bool = False
    end_of_week: bool = False

    def has_date(self) -> bool:
        return any(
            v is not None
            for v in (
                self.day_offset,
                self.month_offset,
                self.working_days,
                self.weekday,
                self.month,
                self.day,
                self.month_end,
                self.year_end,
            )
        )

    def is_empty(self) -> bool:
        return not (
            self.has_date()
            or self.delta is not None
            or self.period is not None
            or self.hour is not None
            or self.end_of_day
            or self.end_of_week
        )


@dataclass(frozen=True)
class GrammarMatch:
    """A grammar's answer: the spec and where the expression ends in the *normalised* text."""

    spec: Spec
    start: int
    end: int
