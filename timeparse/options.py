"""Tunable readings of vague time expressions (one place, so that handlers agree)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time


@dataclass(frozen=True)
class ParseOptions:
    """How vague expressions are read.

    ``default_time``: a date without a clock time (明天, 下周一, friday) means this time.
    ``end_of_day``: a deadline without a clock time (周五前, by friday, 今天下班前,
    3个工作日内) means this time: the end of the working day. 18:00 by default;
    offices closing at 17:30 pass ``time(17, 30)``.
    ``pm_hours``: bare hours (no 上午/下午, am/pm, or leading zero) read as the
    afternoon, because nobody in an office means 3 a.m. by "3点开会" or "at 3".
    Hours 7–12 and 13–23 are read as written; "03:00" and "凌晨3点" stay at night.
    """

    default_time: time = time(9, 0)
    end_of_day: time = time(18, 0)
    pm_hours: frozenset[int] = field(default_factory=lambda: frozenset(range(1, 7)))


DEFAULT_OPTIONS = ParseOptions()
