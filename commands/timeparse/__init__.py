"""Natural-language times for Zhiban, in Chinese and English.

Public API (everything else is internal):
- parse_when(text, *, now, tz, prefer_future, options) -> When
- parse_recurrence(text, *, now, tz) -> Recurrence; split_recurrence(text, *, now, tz)
- Recurrence.next_after(dt_utc), .describe(lang), .rule, Recurrence.from_rule(rule, tz)
- format_when(dt_utc, *, tz, lang, now, hints), format_duration(seconds, lang)
- is_working_day(day), add_working_days(start, n), deadline_in_working_days(now, n, tz, end_of_day)
- TimeParseError (err.key, err.message(lang)), ParseOptions, get_zone, warm_up
"""

from __future__ import annotations

from .errors import TimeParseError
from .fallback import warm_up
from .formatting import format_duration, format_when
from .options import DEFAULT_OPTIONS, ParseOptions
from .parse import When, parse_when
from .recurrence import Recurrence, parse_recurrence, split_recurrence
from .texts import TEXTS
from .workdays import add_working_days, deadline_in_working_days, is_working_day
from .zones import DEFAULT_TZ, get_zone

__all__ = [
    "DEFAULT_OPTIONS",
    "DEFAULT_TZ",
    "TEXTS",
    "ParseOptions",
    "Recurrence",
    "TimeParseError",
    "When",
    "add_working_days",
    "deadline_in_working_days",
    "format_duration",
    "format_when",
    "get_zone",
    "is_working_day",
    "parse_recurrence",
    "parse_when",
    "split_recurrence",
    "warm_up",
]
