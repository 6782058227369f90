"""Reading `!meeting new <title> <when> [at <place>] @attendees…` into its parts.

The title comes first and has no delimiter, so the time phrase has to be found inside the
text. The rule: the time is the first phrase, starting at a word boundary after the first
word, that `parse_when` reads *and* that ends at a word boundary (or at the end). So in
"周五例会 周五 9:30" the title keeps "周五例会" (a weekday glued to more text is a title word),
and "3号文件" is not read as the 3rd. Chinese typed without spaces ("防汛会商明天下午3点 …")
is tried character by character inside the first word, with the same end rule.
What follows the time is the place, after an optional marker (at / in / 在 / 地点 / 于).

The search is bounded: a position is tried only where a time can begin (a digit, a Chinese
numeral or time word, a Latin word), only within the first _SEARCH_CHARS characters, and
under the parser's time limit (timeparse.budget).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from records.errors import DomainError
from timeparse import TimeParseError, When, parse_when
from timeparse.budget import TooComplex, bounded, check

_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
_PLACE_LEAD = re.compile(r"^(?:at|in|@|在|于|地点\s*[:：]?)\s*", re.IGNORECASE)
_PLACE_TAIL = re.compile(r"\s(?:at|在|于|地点\s*+[:：]?)\s*+(\S.*)$", re.IGNORECASE)
# Characters a time phrase can begin with: digits (full-width too), Chinese numerals, the
# first characters of the Chinese time words, and Latin letters (English words, month names).
_TIME_START = re.compile(
    r"[\d０-９零〇一二两三四五六七八九十百半今明后後大昨前下上本这這周星礼禮凌清早中午傍晚夜在于於收A-Za-z@]"
)
_SAME_RUN = re.compile(r"[\dA-Za-z.:@]")
_NUMERAL = "零〇一二两三四五六七八九十百"
# Titles are a line ("防汛工作会商会"); a time phrase more than this far into the text is in
# something pasted after the title, not the meeting's time (and each position tried costs).
_SEARCH_CHARS = 1000
# Errors that show the words *were* a time (just not a usable one): worth reporting.
_TIME_LIKE_ERRORS = {"time.in_past", "time.invalid_date", "time.invalid_clock"}


@dataclass
class MeetingDraft:
    """What the user gave; the wizard asks for what is missing."""

    title: str = ""
    starts_at: datetime | None = None
    when_text: str = ""
    place: str | None = None
    attendees: list[str] = field(default_factory=list)


def split_attendees(text: str) -> tuple[str, list[str]]:
    """Take the full Matrix IDs out of `text`: (the text without them, the IDs in order)."""
    found = list(dict.fromkeys(_MXID.findall(text)))
    return re.sub(r"\s+", " ", _MXID.sub(" ", text)).strip(), found


def _ends_on_boundary(when: When, candidate: str) -> bool:
    """The time phrase is not glued to the next word ("周五例会" is not "周五" + "例会")."""
    if not when.rest:
        return True
    return when.rest_start > 0 and candidate[when.rest_start - 1].isspace()


def _may_start_inside(text: str, i: int) -> bool:
    """Inside a word, a time can begin at ``i`` only where a new run starts: not in the middle
    of a number ("12点" is not "2点"), of a Latin word, or of a Chinese numeral (三十)."""
    ch, before = text[i], text[i - 1]
    if not _TIME_START.match(ch):
        return False
    if _SAME_RUN.match(ch) and _SAME_RUN.match(before):
        return False
    return not (ch in _NUMERAL and before in _NUMERAL)


def _starts(text: str) -> list[int]:
    """Where to try: each later word, and (Chinese has no spaces) inside the first word."""
    words = re.finditer(r"\S+", text[:_SEARCH_CHARS])
    first = next(words, None)
    if first is None:
        return []
    starts = [m.start() for m in words if _TIME_START.match(text, m.start())]
    return starts + [i for i in range(first.start() + 1, first.end()) if _may_start_inside(text, i)]


@bounded
def find_time(text: str, *, now: datetime, tz: str) -> tuple[str, When, str] | None:
    """Split `text` into (before, the time, after); None when there is no time in it.

    The first phrase that is clearly a time but unusable (in the past, 2月30日) raises
    its TimeParseError rather than letting a later word pass for the time.
    """
    for start in _starts(text):
        check()
        candidate = text[start:]
        try:
            when = parse_when(candidate, now=now, tz=tz)
        except TooComplex:
            raise
        except TimeParseError as exc:
            if exc.key in _TIME_LIKE_ERRORS and text[start - 1].isspace():
                # The first time phrase is the meeting's time: a later one is not a fallback.
                raise
            continue
        if _ends_on_boundary(when, candidate):
            whole = _time_from_the_start(text, start, now=now, tz=tz)
            if whole is not None:
                return "", whole, whole.rest
            return text[:start].strip(), when, when.rest
    return None


def _time_from_the_start(text: str, start: int, *, now: datetime, tz: str) -> When | None:
    """The time read from the very start, when the "title" before `start` is part of it.

    "明天17点" has no title: read from inside the word, "17点" would leave "明天" as the title
    and put the meeting today. When the whole text from its start reads as one time phrase that
    runs past `start` (and ends on a word boundary), that phrase is the time and the title is
    empty (the wizard asks for it).
    """
    lead = len(text) - len(text.lstrip())
    if start <= lead or not _TIME_START.match(text, lead):
        return None
    candidate = text[lead:]
    try:
        when = parse_when(candidate, now=now, tz=tz)
    except TooComplex:
        raise
    except TimeParseError:
        return None
    reaches = when.rest_start if when.rest else len(candidate)
    if reaches < start - lead or not _ends_on_boundary(when, candidate):
        return None
    return when


def clean_place(text: str) -> str | None:
    place = _PLACE_LEAD.sub("", text.strip()).strip(" ，,。")
    return place or None


@bounded
def parse_new_meeting(text: str, *, now: datetime, tz: str) -> MeetingDraft:
    """Parse the arguments of `!meeting new` (mentions already written as full Matrix IDs)."""
    rest, attendees = split_attendees(text)
    draft = MeetingDraft(attendees=attendees)
    found = find_time(rest, now=now, tz=tz)
    if found is None:
        # Only the last line can end with the place (`.` stops at a newline): searching from
        # there keeps the search linear in the text.
        tail = _PLACE_TAIL.search(rest, max(0, rest.rfind("\n")))
        if tail is not None:
            draft.place = clean_place(tail.group(1))
            rest = rest[: tail.start()]
        draft.title = rest.strip()
        return draft
    title, when, after = found
    draft.title, draft.starts_at, draft.when_text = title, when.at, when.matched
    draft.place = clean_place(after)
    return draft


@bounded
def parse_when_reply(text: str, *, now: datetime, tz: str) -> When:
    """A wizard answer that should be just a time."""
    when = parse_when(text.strip(), now=now, tz=tz)
    if when.rest and not _PLACE_LEAD.match(when.rest):
        raise TimeParseError("time.unparsed", text=text.strip()[:24])
    return when


@bounded
def parse_action(text: str, *, now: datetime, tz: str) -> tuple[str, str, datetime]:
    """`@x <task> by <when>` / `@x <任务> 截止 <时间>` → (assignee, task, due time)."""
    rest, people = split_attendees(text)
    if len(people) != 1:
        raise DomainError("meeting.action_one_person")
    match = re.search(r"\s(?:by|due|before|截止(?:时间)?|期限|完成时限)\s*[:：]?\s*", f" {rest}", re.IGNORECASE)
    if match is None:
        raise DomainError("meeting.action_no_due")
    title = f" {rest}"[: match.start()].strip()
    when = parse_when(f" {rest}"[match.end() :], now=now, tz=tz)
    if not title:
        raise DomainError("meeting.action_no_title")
    return people[0], title, when.at
