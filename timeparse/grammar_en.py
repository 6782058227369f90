"""The English time grammar: in 30 seconds, tomorrow 9am, at 16, next monday, by friday …

Hand-written for the forms people type into a chat bot, because these are the
ones dateparser gets wrong in a reminder bot: "at 16" is the 16th of the month
to dateparser (matrix-reminder-bot read it as a year), a past "9:30" stays
today, and relative offsets are computed on naive wall time (wrong across DST).
Anything else that looks like a date ("Dec 1 3pm", "1 December 2026") is left
to the dateparser fallback in fallback.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

from .spec import MAX_COUNT, GrammarMatch, Period, Spec, WeekRef, amount

_F = re.IGNORECASE
_SEP = re.compile(r"[\s,]*")
_BOUNDARY = r"(?![\w:])"

_NUMBER_WORDS = {
    "a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
    "seven": 7.0, "eight": 8.0, "nine": 9.0, "ten": 10.0, "eleven": 11.0, "twelve": 12.0,
    "fifteen": 15.0, "twenty": 20.0, "thirty": 30.0, "forty": 40.0, "forty-five": 45.0,
    "half an": 0.5, "half a": 0.5,
}  # fmt: skip
_AMOUNT = r"(\d+(?:\.\d+)?|half\s+an?|forty-five|" + "|".join(w for w in _NUMBER_WORDS if " " not in w) + ")"
_UNIT = r"(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w|months?|mos?)"
_AMOUNT_UNIT = re.compile(r"\s*(?:,|and)?\s*" + _AMOUNT + r"\s*" + _UNIT + _BOUNDARY, _F)
_IN = re.compile(r"\s*(?:in|within|after)\s+", _F)
_LATER = re.compile(r"\s+(?:from\s+now|later)\b", _F)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
_UNIT_DAYS = {"d": 1, "w": 7}

_LEAD = re.compile(r"\s*(?:(by|before|until|till|no\s+later\s+than|on|at)\s+)?", _F)
_DAYS: dict[str, tuple[int, Period | None]] = {
    "the day after tomorrow": (2, None),
    "day after tomorrow": (2, None),
    "today": (0, None),
    "tonight": (0, Period.EVENING),
    "this morning": (0, Period.FORENOON),
    "this afternoon": (0, Period.AFTERNOON),
    "this evening": (0, Period.EVENING),
    "tomorrow": (1, None),
    "tmrw": (1, None),
    "tmr": (1, None),
    # The past: understood, so that callers answer "in the past" instead of "not understood".
    "the day before yesterday": (-2, None),
    "day before yesterday": (-2, None),
    "yesterday": (-1, None),
    "last night": (-1, Period.EVENING),
}
_DAY = re.compile("(?:" + "|".join(sorted(_DAYS, key=len, reverse=True)) + r")\b", _F)
_WEEKDAY_NAMES = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY = re.compile(
    r"(?:(next|this|coming|last|past|previous)\s+)?("
    + "|".join(sorted(_WEEKDAY_NAMES, key=len, reverse=True))
    + r")\b",
    _F,
)
_WEEK_REFS = {
    "next": WeekRef.NEXT_WEEK,
    "this": WeekRef.THIS_WEEK,
    "coming": WeekRef.UPCOMING,
    "last": WeekRef.PREVIOUS,
    "past": WeekRef.PREVIOUS,
    "previous": WeekRef.PREVIOUS,
}
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:T(?=\d))?" + r"(?!\d)", _F)
_PERIOD = re.compile(r"(?:in\s+the\s+)?(morning|afternoon|evening|night)\b", _F)
_PERIODS = {
    "morning": Period.FORENOON,
    "afternoon": Period.AFTERNOON,
    "evening": Period.EVENING,
    "night": Period.EVENING,
}
_AT = re.compile(r"(?:at\s+|@\s*)", _F)
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2})(?::\d{2})?)?\s*(?:(a\.?m\.?|p\.?m\.?)|(o'?clock))?" + r"(?![\w:])", _F)
_NAMED_CLOCK = re.compile(r"(noon|midday|midnight)\b", _F)
_END_OF = re.compile(r"(?:(?:the\s+)?end\s+of\s+(?:the\s+)?(day|week)|(eod|cob|eow))\b", _F)
_ON = re.compile(r"\s*(?:on\s+)?", _F)


def _amount_of(word: str) -> float:
    word = re.sub(r"\s+", " ", word.lower())
    return _NUMBER_WORDS[word] if word in _NUMBER_WORDS else amount(word)


def _relative(s: str, pos: int, spec: Spec) -> int | None:
    """`in 2 hours 30 minutes`, `in 30s`, `3 days from now`; fills the spec, returns the end."""
    lead = _IN.match(s, pos)
    p = lead.end() if lead else pos
    seconds = 0.0
    days = 0.0
    months = 0.0
    parts = 0
    while m := _AMOUNT_UNIT.match(s, p):
        value, unit = _amount_of(m.group(1)), m.group(2).lower()
        if unit.startswith("mo"):
            months += value
        elif unit[0] in _UNIT_DAYS:
            days += value * _UNIT_DAYS[unit[0]]
        else:
            seconds += value * _UNIT_SECONDS[unit[0]]
        parts += 1
        p = m.end()
    if parts == 0:
        return None
    # "1d 1d 1d …" adds up: keep the sums where the calendar arithmetic cannot overflow
    # (resolve refuses anything beyond the horizon anyway).
    months, days, seconds = min(months, MAX_COUNT), min(days, MAX_COUNT), min(seconds, MAX_COUNT * 3600)
    if lead is None:
        later = _LATER.match(s, p)
        if later is None:
            return None
        p = later.end()
    calendar = months > 0 or (days > 0 and days.is_integer() and seconds == 0)
    if calendar:
        # Whole days/weeks/months move the calendar and keep the wall-clock time (DST-proof).
        extra_days = round((months % 1) * 30)
        spec.month_offset = int(months) or None
        spec.day_offset = int(days) + extra_days if (days or extra_days) else None
        spec.keep_clock = True
        if seconds:
            spec.delta = timedelta(seconds=seconds)
    else:
        spec.delta = timedelta(days=days, seconds=seconds)
    return p


def _date(s: str, pos: int, spec: Spec) -> int | None:
    if m := _DAY.match(s, pos):
        spec.day_offset, spec.period = _DAYS[re.sub(r"\s+", " ", m.group().lower())]
        return m.end()
    if m := _WEEKDAY.match(s, pos):
        spec.weekday = _WEEKDAY_NAMES[m.group(2).lower()]
        spec.week_ref = _WEEK_REFS.get((m.group(1) or "coming").lower(), WeekRef.UPCOMING)
        return m.end()
    if m := _DATE_ISO.match(s, pos):
        spec.year, spec.month, spec.day = (int(g) for g in m.groups())
        return m.end()
    return None


def _clock(s: str, pos: int, spec: Spec, *, loose: bool) -> int | None:
    """A clock time. A bare number ("16") is a clock time only after `at` or a day (``loose``)."""
    if m := _NAMED_CLOCK.match(s, pos):
        word = m.group(1).lower()
        spec.period = Period.MIDNIGHT if word == "midnight" else Period.NOON
        return m.end()
    m = _CLOCK.match(s, pos)
    if m is None:
        return None
    hour, minute, meridiem, oclock = m.groups()
    if minute is None and meridiem is None and oclock is None and not loose:
        return None
    spec.hour = int(hour)
    spec.minute = int(minute) if minute is not None else None
    if meridiem:
        spec.meridiem = "am" if meridiem.lower().startswith("a") else "pm"
    spec.clock_24h = meridiem is None and (hour.startswith("0") or int(hour) >= 13)
    return m.end()


def match(s: str, start: int = 0) -> GrammarMatch | None:
    """Match an English time expression at ``start`` of the normalised text ``s``."""
    spec = Spec()
    lead = _LEAD.match(s, start)
    assert lead is not None  # the pattern matches the empty string
    word = (lead.group(1) or "").lower()
    pos = lead.end()
    if word in {"by", "before", "until", "till"} or word.startswith("no"):
        spec.deadline = True
    if (end := _relative(s, pos, spec)) is not None:
        if spec.keep_clock and spec.delta is None:  # whole days: "in 3 days at 9am"
            p = _SEP.match(s, end).end()  # type: ignore[union-attr]
            at = _AT.match(s, p)
            if (clock_end := _clock(s, at.end() if at else p, spec, loose=at is not None)) is not None:
                end = clock_end
        return GrammarMatch(spec=spec, start=start, end=end)
    if m := _END_OF.match(s, pos):
        unit = (m.group(1) or m.group(2)).lower()
        if unit in {"week", "eow"}:
            spec.end_of_week = True
        else:
            spec.end_of_day = True
        return GrammarMatch(spec=spec, start=start, end=m.end())

    end = pos
    at_word = word == "at"
    date_end = _date(s, pos, spec)
    if date_end is not None:
        end = date_end
        p = _SEP.match(s, end).end()  # type: ignore[union-attr]
        if m := _PERIOD.match(s, p):
            spec.period = _PERIODS[m.group(1).lower()]
            end = m.end()
            p = _SEP.match(s, end).end()  # type: ignore[union-attr]
        at = _AT.match(s, p)
        if (clock_end := _clock(s, at.end() if at else p, spec, loose=True)) is not None:
            end = clock_end
    else:
        at = _AT.match(s, pos)
        p = at.end() if at else pos
        clock_end = _clock(s, p, spec, loose=at_word or at is not None)
        if clock_end is None:
            return None
        end = clock_end
        # "9am tomorrow", "3pm on friday", "noon next monday"
        q = _SEP.match(s, end).end()  # type: ignore[union-attr]
        on = _ON.match(s, q)
        if on is not None and (date_end := _date(s, on.end(), spec)) is not None:
            end = date_end
    if spec.is_empty():
        return None
    return GrammarMatch(spec=spec, start=start, end=end)
