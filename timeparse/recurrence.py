"""Repeat rules: every day 9:00, 每周一上午9点, 每月1号10点, 工作日每天9点, cron 0 9 * * 1-5.

A ``Recurrence`` is a serialisable ``rule`` string plus the user's zone:
- ``RRULE:FREQ=…;BYHOUR=…`` (RFC 5545, python-dateutil), evaluated on the wall
  clock of ``tz``: "every Monday 09:00" stays 09:00 in Shanghai (01:00 UTC) and
  stays 09:00 in New York on both sides of a DST change.
- ``DTSTART:…Z`` + ``RRULE:FREQ=HOURLY|MINUTELY;INTERVAL=n``: fixed intervals,
  evaluated in UTC so they stay exactly n hours apart across DST changes.
- ``CRON:m h dom mon dow`` (croniter), on the wall clock of ``tz``.
- ``WORKDAYS:HH:MM``: official Chinese working days (holidays skipped, 调休
  make-up days included); RRULE cannot express those.

Month ends: RFC 5545 *skips* months that lack the day, so 每月31号 fires only
in 31-day months. Users who want the month end write 每月最后一天 / "every
month on the last day" (BYMONTHDAY=-1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from croniter import croniter
from dateutil.rrule import rrule, rrulestr

from . import grammar_en, grammar_zh
from .budget import HORIZON_DAYS, bounded, check
from .errors import TimeParseError
from .normalize import normalize
from .options import DEFAULT_OPTIONS, ParseOptions
from .resolve import clock_of
from .spec import Spec, count
from .texts import WEEKDAYS_LONG, text
from .workdays import is_working_day
from .zones import DEFAULT_TZ, get_zone, local_to_utc, require_aware, to_local

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SEARCH_LIMIT = 400  # occurrences scanned before giving up (a rule that never fires)
# A repeat rule is short ("工作日每天上午9点", "every monday and thursday at 9:30am"): only this
# much of the text is read for it, however long the message.
_WINDOW = 160
_MAX_INTERVAL_MINUTES = HORIZON_DAYS * 24 * 60

_I = re.IGNORECASE
_ZH_WD = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "6": 5, "7": 6,
          "一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}  # fmt: skip
_ZH_WORKDAYS = re.compile(r"\s*(?:每个?工作日|工作日)(?:每天|每日)?")
_ZH_WEEKDAYS_RANGE = re.compile(r"\s*每(?:个)?(?:周|星期|礼拜)(?:一|1)\s*(?:到|至|-|~)\s*(?:周|星期|礼拜)?(?:五|5)")
_ZH_DAILY = re.compile(r"\s*(?:每天|每日|天天)")
_ZH_WD_ITEM = r"(?:[一二三四五六日天]|[1-7](?![\d:点]))"
# 每周一、三、五 / 每周一三五 / 每周1,3: items joined by a separator or nothing (never a bare space,
# which separates the days from the clock time: 每周三、五 16:00).
_ZH_WEEKLY = re.compile(rf"\s*每个?(?:周|星期|礼拜)({_ZH_WD_ITEM}(?:\s*[、,，和及与]\s*{_ZH_WD_ITEM}|{_ZH_WD_ITEM})*)")
_ZH_MONTHLY = re.compile(r"\s*每个?月\s*(?:(\d{1,2})\s*[号日號]|(最后[1一]天|底|末))")
_ZH_INTERVAL = re.compile(r"\s*每(?:隔)?\s*(\d+)?\s*个?\s*(小时|钟头|分钟)")
_EN_WORKDAYS = re.compile(r"\s*every\s+(?:working\s+day|workday|business\s+day)\b", _I)
_EN_WEEKDAYS = re.compile(r"\s*(?:every\s+weekday|weekdays|every\s+mon(?:day)?\s*-\s*fri(?:day)?)\b", _I)
_EN_DAILY = re.compile(r"\s*(?:every\s+day|daily|every\s+morning)\b", _I)
_EN_NAMES = "|".join(sorted(grammar_en._WEEKDAY_NAMES, key=len, reverse=True))
_EN_WEEKLY = re.compile(rf"\s*every\s+((?:{_EN_NAMES})s?(?:\s*(?:,|and|&)\s*(?:{_EN_NAMES})s?)*)\b", _I)
_EN_NAME = re.compile(rf"\b({_EN_NAMES})s?\b", _I)
_EN_MONTHLY = re.compile(
    r"\s*(?:every\s+month\s+on\s+(?:the\s+)?(?:(\d{1,2})(?:st|nd|rd|th)?|(last\s+day))"
    r"|(?:monthly\s+)?on\s+the\s+(?:(\d{1,2})(?:st|nd|rd|th)?|(last\s+day))\s+of\s+every\s+month)\b",
    _I,
)
_EN_INTERVAL = re.compile(r"\s*(?:every\s+(\d+)?\s*(hours?|hrs?|minutes?|mins?)|(hourly))\b", _I)
_CRON = re.compile(r"\s*(?:(cron)\s+)?((?:[\w*/,\-?]+\s+){4}[\w*/,\-?]+)(?=\s|$)", _I)
_CRON_NUMERIC = re.compile(r"^[\d*/,\-\s]+$")
_KEYWORD = re.compile(r"\s*(?:every\b|each\b|cron\b|daily\b|hourly\b|每|工作日)", _I)
_AT = re.compile(r"\s*(?:at\s+|@\s*|[,，]\s*)?", _I)


@dataclass(frozen=True)
class Recurrence:
    """A repeat rule in the user's zone. ``rule`` is what to store; rebuild with ``from_rule``."""

    rule: str
    tz: str = DEFAULT_TZ

    @classmethod
    def from_rule(cls, rule: str, tz: str = DEFAULT_TZ) -> Recurrence:
        """Rebuild a stored rule; raises TimeParseError (time.bad_rule) if it cannot be read."""
        get_zone(tz)
        recurrence = cls(rule=rule, tz=tz)
        try:
            recurrence._validate()
        except (ValueError, KeyError, TypeError) as exc:
            raise TimeParseError("time.bad_rule", text=rule) from exc
        return recurrence

    # -- evaluation ----------------------------------------------------------------
    def _validate(self) -> None:
        if self.rule.startswith("CRON:"):
            fields = self.rule[5:].split()
            if len(fields) != 5 or not croniter.is_valid(" ".join(fields)):
                raise ValueError(self.rule)
        elif self.rule.startswith("WORKDAYS:"):
            time.fromisoformat(self.rule[9:])
        elif "RRULE:" in self.rule:
            rrulestr(self.rule, ignoretz=True, dtstart=datetime(2000, 1, 1))
        else:
            raise ValueError(self.rule)

    def next_after(self, dt_utc: datetime) -> datetime:
        """The first occurrence strictly after ``dt_utc``, as aware UTC."""
        after = require_aware(dt_utc, "dt_utc")
        if self.rule.startswith("WORKDAYS:"):
            return self._next_workday(after)
        if self.rule.startswith("DTSTART:"):  # fixed interval, in UTC
            rule = rrulestr(self.rule, ignoretz=True)
            assert isinstance(rule, rrule)
            nxt = rule.after(after.replace(tzinfo=None))
            if nxt is None:  # pragma: no cover - interval rules are unbounded
                raise ValueError("rule has no further occurrence")
            return nxt.replace(tzinfo=UTC)
        local = to_local(after, self.tz)
        candidates = self._wall_iter(local)
        for _ in range(_SEARCH_LIMIT):
            check()
            wall = next(candidates)
            at = local_to_utc(wall, self.tz)
            # After a DST fall-back the wall clock repeats an hour, so a wall time
            # later than ``local`` can still be an earlier instant: skip those.
            if at > after:
                return at
        raise ValueError("rule has no occurrence in range")  # pragma: no cover

    def _wall_iter(self, local: datetime) -> Iterator[datetime]:
        """Naive wall times after ``local`` (minus an hour, for the DST fold), in order."""
        start = local - timedelta(hours=1)
        if self.rule.startswith("CRON:"):
            it = croniter(self.rule[5:], start)
            while True:
                yield it.get_next(datetime)
        rule = rrulestr(self.rule, ignoretz=True, dtstart=start.replace(second=0, microsecond=0))
        assert isinstance(rule, rrule)
        cursor = start
        while True:
            nxt = rule.after(cursor)
            if nxt is None:
                return
            yield nxt
            cursor = nxt

    def _next_workday(self, after: datetime) -> datetime:
        clock = time.fromisoformat(self.rule[9:])
        day = to_local(after, self.tz).date() - timedelta(days=1)
        for _ in range(_SEARCH_LIMIT):
            check()
            if is_working_day(day):
                at = local_to_utc(datetime.combine(day, clock), self.tz)
                if at > after:
                    return at
            day += timedelta(days=1)
        raise ValueError("no working day in range")  # pragma: no cover

    # -- description -----------------------------------------------------------------
    def describe(self, lang: str = "zh") -> str:
        """A human description: "每周一 09:00" / "every Monday 09:00"."""
        if self.rule.startswith("CRON:"):
            return text("rec.cron", lang, expr=self.rule[5:])
        if self.rule.startswith("WORKDAYS:"):
            return text("rec.workdays", lang, time=self.rule[9:])
        parts = dict(item.split("=", 1) for item in self.rule.split("RRULE:", 1)[1].strip().split(";") if "=" in item)
        freq = parts["FREQ"]
        if freq in {"HOURLY", "MINUTELY"}:
            n = int(parts.get("INTERVAL", "1"))
            if freq == "HOURLY":
                return text("rec.hourly_one", lang) if n == 1 else text("rec.hourly", lang, n=n)
            return text("rec.minutely", lang, n=n)
        clock = f"{int(parts.get('BYHOUR', '0')):02d}:{int(parts.get('BYMINUTE', '0')):02d}"
        if freq == "DAILY":
            return text("rec.daily", lang, time=clock)
        if freq == "WEEKLY":
            days = [_DAY_CODES.index(code) for code in parts["BYDAY"].split(",")]
            if sorted(days) == [0, 1, 2, 3, 4]:
                return text("rec.weekdays", lang, time=clock)
            names = [WEEKDAYS_LONG["en" if lang == "en" else "zh"][d] for d in sorted(days)]
            joined = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
            return text("rec.weekly", lang, days=joined if lang == "en" else "、".join(names), time=clock)
        day = int(parts["BYMONTHDAY"])
        if day == -1:
            return text("rec.monthly_last", lang, time=clock)
        return text("rec.monthly", lang, day=day, time=clock)


# -- parsing ---------------------------------------------------------------------------
def _clock_after(s: str, pos: int, options: ParseOptions, source: str) -> tuple[time, int]:
    """An optional part of day and clock time after the repeat words (zh or en)."""
    at = _AT.match(s, pos)
    p = at.end() if at else pos
    best: tuple[Spec, int] | None = None
    for grammar in (grammar_zh, grammar_en):
        m = grammar.match(s, p)
        if m is None or m.spec.has_date() or m.spec.delta is not None or m.spec.deadline:
            continue
        if best is None or m.end > best[1]:
            best = (m.spec, m.end)
    if best is None:
        return options.default_time, pos
    clock = clock_of(best[0], options, source)
    return (clock[0] if clock else options.default_time), best[1]


def _wall_rule(freq: str, clock: time, extra: str = "") -> str:
    return f"RRULE:FREQ={freq}{extra};BYHOUR={clock.hour};BYMINUTE={clock.minute};BYSECOND=0"


def _interval_rule(n: str | None, unit_seconds: int, now: datetime, source: str) -> str:
    """Every ``n`` hours/minutes: 1 up to the horizon, else not a rule we keep."""
    every = count(n) if n else 1
    if not 1 <= every * unit_seconds // 60 <= _MAX_INTERVAL_MINUTES:
        raise TimeParseError("time.unparsed_recurrence", text=source.strip()[:24])
    seconds = every * unit_seconds
    start = require_aware(now).replace(microsecond=0) + timedelta(seconds=seconds)
    freq, interval = ("HOURLY", seconds // 3600) if seconds % 3600 == 0 else ("MINUTELY", seconds // 60)
    return f"DTSTART:{start:%Y%m%dT%H%M%S}Z\nRRULE:FREQ={freq};INTERVAL={interval}"


def _fires(expr: str, now: datetime) -> bool:
    """A valid expression may still never fire (0 0 30 2 *: 30 February); croniter gives up
    on those after a bounded search."""
    try:
        croniter(expr, now.replace(tzinfo=None)).get_next(datetime)
    except ValueError:  # CroniterBadDateError
        return False
    return True


def _match(s: str, now: datetime, options: ParseOptions) -> tuple[str, int] | None:
    """(rule, end) for a repeat rule at the start of the normalised text ``s``."""
    if m := _CRON.match(s):
        expr = " ".join(m.group(2).split())
        if m.group(1) or _CRON_NUMERIC.match(expr):
            if not croniter.is_valid(expr) or not _fires(expr, now):
                raise TimeParseError("time.bad_cron", text=expr[:40])
            return f"CRON:{expr}", m.end()
    if (m := _ZH_WORKDAYS.match(s)) or (m := _EN_WORKDAYS.match(s)):
        clock, end = _clock_after(s, m.end(), options, m.group())
        return f"WORKDAYS:{clock:%H:%M}", end
    if (m := _ZH_WEEKDAYS_RANGE.match(s)) or (m := _EN_WEEKDAYS.match(s)):
        clock, end = _clock_after(s, m.end(), options, m.group())
        return _wall_rule("WEEKLY", clock, ";BYDAY=MO,TU,WE,TH,FR"), end
    if (m := _ZH_DAILY.match(s)) or (m := _EN_DAILY.match(s)):
        clock, end = _clock_after(s, m.end(), options, m.group())
        return _wall_rule("DAILY", clock), end
    days: list[int] = []
    if m := _ZH_WEEKLY.match(s):
        days = [_ZH_WD[ch] for ch in m.group(1) if ch in _ZH_WD]
    elif m := _EN_WEEKLY.match(s):
        days = [grammar_en._WEEKDAY_NAMES[n.lower()] for n in _EN_NAME.findall(m.group(1))]
    if m and days:
        clock, end = _clock_after(s, m.end(), options, m.group())
        codes = ",".join(_DAY_CODES[d] for d in sorted(set(days)))
        return _wall_rule("WEEKLY", clock, f";BYDAY={codes}"), end
    if (m := _ZH_MONTHLY.match(s)) or (m := _EN_MONTHLY.match(s)):
        groups = [g for g in m.groups() if g]
        day = -1 if not groups[0].isdigit() else int(groups[0])
        if not (day == -1 or 1 <= day <= 31):
            raise TimeParseError("time.invalid_date", text=m.group().strip())
        clock, end = _clock_after(s, m.end(), options, m.group())
        return _wall_rule("MONTHLY", clock, f";BYMONTHDAY={day}"), end
    if m := _ZH_INTERVAL.match(s):
        return _interval_rule(m.group(1), 60 if m.group(2) == "分钟" else 3600, now, m.group()), m.end()
    if m := _EN_INTERVAL.match(s):
        unit = (m.group(2) or m.group(3)).lower()
        return _interval_rule(m.group(1), 60 if unit.startswith("m") else 3600, now, m.group()), m.end()
    return None


@bounded
def split_recurrence(
    text_: str,
    *,
    now: datetime | None = None,
    tz: str = DEFAULT_TZ,
    options: ParseOptions = DEFAULT_OPTIONS,
) -> tuple[Recurrence, str] | None:
    """A repeat rule at the start of the text and the rest, or None when there is none.

    Raises TimeParseError when the text starts like a rule (every …, 每…, cron …)
    but is not one we understand. ``now`` anchors fixed intervals ("every 2
    hours" first fires at now + 2 h); it defaults to the current time.
    """
    get_zone(tz)
    norm = normalize(text_[:_WINDOW])
    found = _match(norm.text, now if now is not None else datetime.now(UTC), options)
    if found is None:
        if _KEYWORD.match(norm.text):
            quoted = text_.strip()
            raise TimeParseError("time.unparsed_recurrence", text=quoted[:24] + ("…" if len(quoted) > 24 else ""))
        return None
    rule, end = found
    rest = text_[norm.original_end(end) :]
    return Recurrence(rule=rule, tz=tz), re.sub(r"^[\s,，:：;；、\-—]+", "", rest).strip()


@bounded
def parse_recurrence(
    text_: str, *, now: datetime, tz: str = DEFAULT_TZ, options: ParseOptions = DEFAULT_OPTIONS
) -> Recurrence:
    """The repeat rule that is the whole of ``text_``; TimeParseError otherwise."""
    found = split_recurrence(text_, now=now, tz=tz, options=options)
    if found is None or found[1]:
        quoted = text_.strip()
        raise TimeParseError("time.unparsed_recurrence", text=quoted[:24] + ("…" if len(quoted) > 24 else ""))
    return found[0]
