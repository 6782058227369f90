"""Natural-language times for Zhiban, in Chinese and English.

Public API (everything else is internal):
- parse_when(text, *, now, tz, prefer_future, options) -> When
- parse_recurrence(text, *, now, tz) -> Recurrence; split_recurrence(text, *, now, tz)
- Recurrence.next_after(dt_utc), .describe(lang), .rule, Recurrence.from_rule(rule, tz)
- format_when(dt_utc, *, tz, lang, now, hints), format_duration(seconds, lang),
  minutes_late(seconds) (whole minutes past a deadline, rounded up: never "0 minutes late")
- is_working_day(day), add_working_days(start, n), deadline_in_working_days(now, n, tz, end_of_day)
- TimeParseError (err.key, err.message(lang)), ParseOptions, get_zone, warm_up

How vague words are read (see resolve.py and options.py for the full rules):
- all calendar words count days in the user's zone (default Asia/Shanghai);
- a date without a clock time is 09:00; a deadline (周五前, by friday, 下班前,
  月底前, N个工作日内) is 18:00, the end of the working day (ParseOptions.end_of_day);
- a time of day alone is today, or tomorrow once passed; a weekday alone is the
  next one to come; 本周X/this X and 下周X/next X are calendar weeks (Mon-Sun);
- bare hours 1-6 (3点, at 3) are afternoon hours; 03:00, 凌晨3点, 3am are not;
- exact offsets (in 30 seconds, 2小时后) are instants: now + delta, never past;
- times are stored and returned as aware UTC datetimes.
"""

from __future__ import annotations

from .errors import TimeParseError
from .formatting import format_duration, format_when, minutes_late
from .options import DEFAULT_OPTIONS, ParseOptions
from .parse import When, parse_when, warm_up
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
    "minutes_late",
    "parse_recurrence",
    "parse_when",
    "split_recurrence",
    "warm_up",
]
