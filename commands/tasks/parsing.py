"""Reading `!task new <title> @lead [@co…] by <when> [from M3] [!high]` into its parts.

Pure functions over text whose mentions are already full Matrix IDs (bot.mentions.text_with_ids
does that in the handler), so they can be tested without chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time

from records.errors import DomainError
from timeparse import ParseOptions, TimeParseError, deadline_in_working_days, parse_when
from timeparse.budget import bounded
from timeparse.workdays import unknown_holiday_year
from timeparse.zones import to_local

_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
_PRIORITY = re.compile(r"(?:^|\s)(?:[!！](?:high|urgent)|urgent|紧急|加急)(?=\s|$)", re.I)
_SOURCE = re.compile(r"(?:^|\s)(?:from|来源[:：]?)\s*(“[^”]+”|\"[^\"]+\"|\S+)", re.I)
_BY = re.compile(r"(?:^|\s)(?:by|due|截止(?:到|于|时间)?[:：]?|期限[:：]?)\s*", re.I)
# Possessive blanks (\s*+): a long run of spaces is read once, never backtracked into.
_WORKDAYS_ZH = re.compile(r"^\s*+(\d{1,3})\s*+个?\s*+工作日(?:内|之内)?\s*+$")
_WORKDAYS_EN = re.compile(r"^\s*+(?:in\s++|within\s++)?(\d{1,3})\s++(?:working|business|work)\s++days?\s*+$", re.I)
_NEW = re.compile(r"^\s*(?:new|add|新建|新增)(?=\s|$)", re.I)
_PERCENT = re.compile(r"^\s*([+-]?\d{1,6})\s*[%％]?(?=\s|$)")


@dataclass(frozen=True)
class NewTask:
    title: str
    lead: str
    co_owners: list[str]
    due_at: datetime
    source: str | None
    priority: str
    # A year whose official holidays are unknown, when the deadline was counted in working
    # days into it (Monday–Friday were counted): the reply says so.
    holidays_unknown: int | None = None


def strip_new(text: str) -> str:
    """`new …` / `新建 …` → `…` (the word is optional)."""
    return _NEW.sub("", text, count=1).strip()


END_OF_DAY = time(18, 0)


def deadline_options(end_of_day: time = END_OF_DAY) -> ParseOptions:
    """How a deadline is read: a bare date (明天, 周五, friday) is the end of that working day.

    An office that says "截止 明天" means "by close of business tomorrow", not 09:00; so the
    date-only default and the deadline default are both the office's end of day. Meetings and
    reminders keep the parser's own default (a bare date is 09:00: the start of that day).
    """
    return ParseOptions(default_time=end_of_day, end_of_day=end_of_day)


def deadline(text: str, *, now: datetime, tz: str, end_of_day: time = END_OF_DAY) -> datetime:
    """A deadline: "3个工作日" / "3 working days" (official calendar), or any time parse_when reads.

    Read as a deadline ("by friday" and "明天" are that day at `end_of_day`, the end of the
    working day) when no clock time is given, else at the time given.
    """
    return deadline_with_note(text, now=now, tz=tz, end_of_day=end_of_day)[0]


@bounded
def deadline_with_note(
    text: str, *, now: datetime, tz: str, end_of_day: time = END_OF_DAY
) -> tuple[datetime, int | None]:
    """``deadline`` and the first year without holiday data a working-day count ran into."""
    m = _WORKDAYS_ZH.match(text) or _WORKDAYS_EN.match(text)
    options = deadline_options(end_of_day)
    try:
        if m:
            due = deadline_in_working_days(now, int(m.group(1)), tz, end_of_day)
            return due, unknown_holiday_year(to_local(now, tz).date(), to_local(due, tz).date())
        if re.match(r"^[A-Za-z]", text):
            try:
                when = parse_when("by " + text, now=now, tz=tz, options=options)
                return when.at, when.holidays_unknown
            except TimeParseError as exc:
                if exc.key == "time.too_complex":
                    raise
        when = parse_when(text, now=now, tz=tz, options=options)
        return when.at, when.holidays_unknown
    except TimeParseError as exc:
        raise DomainError(exc.key, **exc.params) from None


@bounded
def parse_new_task(text: str, *, now: datetime, tz: str, end_of_day: time = END_OF_DAY) -> NewTask:
    """Raises DomainError (task.no_lead, task.no_due, task.no_title, time.*) on a mistake."""
    priority = "normal"
    if _PRIORITY.search(text):
        priority = "high"
        text = _PRIORITY.sub(" ", text)
    source: str | None = None
    m = _SOURCE.search(text)
    if m:
        source = m.group(1).strip('“”"')
        text = text[: m.start()] + " " + text[m.end() :]
    by = list(_BY.finditer(text))
    mentions = list(_MXID.finditer(text))
    if not mentions:
        raise DomainError("task.no_lead")
    if by and by[-1].start() >= mentions[-1].end() - 1:
        head, when_text = text[: by[-1].start()], text[by[-1].end() :]
    else:
        head, when_text = text[: mentions[-1].end()], text[mentions[-1].end() :]
    when_text = when_text.strip()
    if not when_text:
        raise DomainError("task.no_due")
    people = list(dict.fromkeys(_MXID.findall(head)))
    if not people:
        raise DomainError("task.no_lead")
    title = " ".join(_MXID.sub(" ", head).split()).strip(" ,，:：")
    if not title:
        raise DomainError("task.no_title")
    due, holidays_unknown = deadline_with_note(when_text, now=now, tz=tz, end_of_day=end_of_day)
    return NewTask(title, people[0], people[1:], due, source, priority, holidays_unknown)


def parse_percent(text: str) -> tuple[int, str]:
    """ "60% 初稿完成" → (60, "初稿完成"). Range checks are the service's."""
    if not text.strip():
        raise DomainError("task.need_percent")
    m = _PERCENT.match(text)
    if not m:
        raise DomainError("task.bad_percent", value=(text.split() or [""])[0][:12])
    return int(m.group(1)), text[m.end() :].strip()
