"""dateparser as the fallback for date forms the grammars do not cover.

"Dec 1 3pm", "1 December 2026", "December 1st at 10:00" and many languages'
month names are what dateparser is good at. It parses whole strings, so we try
the leading 1..6 words of the text, longest first, and keep the first that
parses: the rest is the reminder's message.

dateparser is slow on long text (it tries every locale's word list on every
token), so it only ever sees a short window (_MAX_CHARS), only when the first
and last words are ones a date can start and end with (a number or an English
date word), and only
so many times per parse (budget.FALLBACK_CALLS).

dateparser is given naive local wall time as its base (RELATIVE_BASE) and
returns naive wall time, which zones.local_to_utc turns into an instant: its own
time-zone handling goes through pytz and is easy to get wrong around DST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import islice, takewhile
from typing import TYPE_CHECKING

from .budget import take_fallback_call
from .options import ParseOptions
from .zones import local_to_utc, to_local

if TYPE_CHECKING:
    from dateparser.date import DateDataParser

_LANGUAGES = ["en", "zh"]
_MAX_WORDS = 6
_MAX_CHARS = 40  # "December 1st 2026 at 10:30 pm" is 29
# A date dateparser reads (and the grammars do not) starts with a number, a month, a weekday
# or one of these words; any other first word is the message, and dateparser is not asked.
_FIRST_WORD = re.compile(
    r"(?:\d|(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*"
    r"|next|last|this|coming|in|on|at|by|before|until|till|the|end|beginning|mid|noon|midnight"
    r"|today|tomorrow|yesterday|tonight|now|a|an|one|two|three|four|five|six|seven|eight|nine|ten"
    r"|first|second|third|fourth|fifth|half|quarter|early|late)\.?,?$)",
    re.IGNORECASE,
)
# ... and ends with a number or one of these: "1 to", "next meeting" are not worth asking about.
_LAST_WORD = re.compile(
    r"(?:.*\d.*|(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*"
    r"|noon|midnight|today|tomorrow|yesterday|tonight|now|ago|later|am|pm|a\.m|p\.m|morning|afternoon"
    r"|evening|night|fortnight|(?:second|minute|hour|day|week|month|year|decade)s?)\.?,?)",
    re.IGNORECASE,
)
# Every word of a phrase worth asking about is a number or a date word: "1 to 1", "Dec
# budget" are not (and dateparser spends milliseconds finding that out).
_DATE_WORD = re.compile(
    r"(?:.*\d.*|(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)[a-z]*"
    r"|next|last|this|coming|in|on|at|by|before|until|till|the|of|and|end|beginning|mid|noon|midnight"
    r"|today|tomorrow|yesterday|tonight|now|ago|later|from|a|an|one|two|three|four|five|six|seven|eight"
    r"|nine|ten|eleven|twelve|first|second|third|fourth|fifth|half|quarter|early|late|am|pm|a\.m|p\.m"
    r"|o'clock|morning|afternoon|evening|night|fortnight|(?:second|minute|hour|day|week|month|year)s?)\.?,?)",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")
# Prefixes that are only digits and punctuation are clock times or noise
# ("16" is the 16th of the month to dateparser, "in 10" is October): the
# grammars decide those.
_NUMERIC_ONLY = re.compile(r"^(?:(?:in|at|on|by)\s+)?[\d\s:.,/\-]+$", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_DEADLINE = re.compile(r"^(?:by|before|until|till)\s", re.IGNORECASE)


@dataclass(frozen=True)
class FallbackMatch:
    at: datetime  # aware UTC
    end: int  # index in the original text
    has_time: bool


def _parser(base: datetime, prefer_future: bool) -> DateDataParser:
    from dateparser.date import DateDataParser  # ~35 ms to import: only when the fallback is needed

    # Building a DateDataParser costs ~20 µs; the expensive part (the language
    # data, ~70 ms on first use) is cached by dateparser itself, process-wide.
    # A parser cannot take per-call settings, and RELATIVE_BASE changes per call.
    return DateDataParser(
        languages=_LANGUAGES,
        settings={
            "RELATIVE_BASE": base,
            "PREFER_DATES_FROM": "future" if prefer_future else "current_period",
            "RETURN_TIME_AS_PERIOD": True,
        },
    )


def warm_up() -> None:
    """Load dateparser and its language data now (~130 ms) instead of on the first command."""
    _parser(datetime(2000, 1, 1), True).get_date_data("1 December 2000 10:00")


def parse_prefix(
    text: str, start: int, *, now: datetime, tz: str, prefer_future: bool, options: ParseOptions
) -> FallbackMatch | None:
    """The longest leading run of words (at most 6) that dateparser reads as a date."""
    words = list(
        takewhile(
            lambda w: w.end() - start <= _MAX_CHARS and _DATE_WORD.fullmatch(w.group()) is not None,
            islice(_WORD.finditer(text, start), _MAX_WORDS),
        )
    )
    if not words or not _FIRST_WORD.match(words[0].group()):
        return None
    parser: DateDataParser | None = None  # built on the first question: most texts ask none
    for word in reversed(words):
        end = word.end()
        candidate = text[start:end].strip()
        if _NUMERIC_ONLY.match(candidate):
            continue
        if len(candidate.split()) == 1 and not _DIGIT.search(candidate):
            # A lone word ("may", "march", "second") is far more often the message than a date.
            continue
        if not _LAST_WORD.fullmatch(word.group()):
            continue
        if not take_fallback_call():
            return None
        parser = parser or _parser(to_local(now, tz), prefer_future)
        try:
            data = parser.get_date_data(candidate)
        except (ValueError, OverflowError):  # odd numbers dateparser cannot build a date from
            continue
        if data.date_obj is None:
            continue
        wall: datetime = data.date_obj.replace(tzinfo=None)
        has_time = data.period == "time"
        if not has_time:
            default = options.end_of_day if _DEADLINE.match(candidate) else options.default_time
            wall = datetime.combine(wall.date(), default)
        return FallbackMatch(at=local_to_utc(wall, tz), end=end, has_time=has_time)
    return None


__all__ = ["FallbackMatch", "parse_prefix", "warm_up"]
