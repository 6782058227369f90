"""Reading the emergency commands' arguments: shift spans, report fields, incident words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from timeparse import get_zone, parse_when
from timeparse.budget import bounded

LEADER_WORDS = ("leader", "带班领导", "带班")
OFFICER_WORDS = ("officers", "officer", "值班员", "值班人员")
# The word between the two ends of a span. Searched without the blanks around it (those are
# stripped after), because a leading \s* tried at every blank of a long run is quadratic.
_RANGE = re.compile(r"至|到|~|～|—|–|--|\s-\s|\sto\s")
_PERSON = re.compile(r"@[^\s:@]+:\S+")
# A phone number written right after a person (`带班 @zhang:office 13800000000`).
_PERSON_PHONE = re.compile(r"(@[^\s:@]+:\S+)\s+(\+?\d[\d\-]{4,19})(?=\s|$)")
_HAS_CLOCK = re.compile(r"\d{1,2}\s*[:：点时]|[上下中]午|早上|晚上|凌晨|傍晚|\d\s*(?:am|pm)\b|noon|midnight", re.I)


class GrammarError(ValueError):
    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


def phones_after_people(text: str) -> dict[str, str]:
    """'带班 @a:x 13800000000 值班员 @b:x' → {'@a:x': '13800000000'} (dashes dropped)."""
    return {user: number.replace("-", "") for user, number in _PERSON_PHONE.findall(text)}


@dataclass
class DutySpec:
    starts_at: datetime
    ends_at: datetime
    leader: str | None
    officers: list[str]


@bounded
def split_people(text: str) -> tuple[str, str | None, list[str]]:
    """'明天 leader @a officers @b @c' → ('明天', '@a', ['@b', '@c'])."""
    pattern = re.compile(
        # A keyword stands alone (user IDs such as @leader-1:office contain the same letters).
        r"(?:(?<=\s)|^)(?P<kw>" + "|".join(re.escape(w) for w in (*LEADER_WORDS, *OFFICER_WORDS)) + r")\s*[:：]?",
        re.I,
    )
    matches = list(pattern.finditer(text))
    if not matches:
        raise GrammarError("em.duty.set_grammar")
    when_text = text[: matches[0].start()].strip()
    leader: str | None = None
    officers: list[str] = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        people = _PERSON.findall(text, match.end(), end)
        if match.group("kw").lower() in LEADER_WORDS:
            leader = people[0] if people else None
        else:
            officers.extend(people)
    return when_text, leader, officers


@bounded
def parse_span(text: str, *, now: datetime, tz: str, shift_start: str) -> tuple[datetime, datetime]:
    """A date ('明天', '11月26日', '2026-11-26') is a 24-hour shift from `shift_start`;
    'A 至 B' / 'A to B' / 'A - B' is an explicit span (B may be a bare time after A)."""
    if not text:
        raise GrammarError("em.duty.set_grammar")
    zone = get_zone(tz)
    parts = [p.strip() for p in _RANGE.split(text, maxsplit=1) if p.strip()]
    if len(parts) == 2:
        # A shift may have begun already (rostering the current shift): the start may be past.
        start = parse_when(parts[0], now=now, tz=tz, prefer_future=False).at
        # "次日8:00" means the next occurrence of 8:00 after the start, which is what
        # parsing the bare time from the start gives.
        end = _instant(re.sub(r"^(?:次日|翌日|第二天|next day)\s*", "", parts[1].strip(), flags=re.I), now=start, tz=tz)
        if end <= start:
            end += timedelta(days=1)
        return start, end
    when = parse_when(text, now=now, tz=tz, prefer_future=False)
    if _HAS_CLOCK.search(when.matched or text):
        start = when.at
        return start, start + timedelta(days=1)
    day = when.at.astimezone(zone).date()
    begin = datetime.combine(day, time.fromisoformat(shift_start), zone)
    return begin, begin + timedelta(days=1)


def _instant(text: str, *, now: datetime, tz: str) -> datetime:
    return parse_when(text, now=now, tz=tz).at


REPORT_KEYS = {
    "event_time": ("event_time", "时间", "事发时间", "发生时间", "when"),
    "place": ("place", "地点", "事发地点", "where"),
    "nature": ("nature", "性质", "类别", "事件性质", "class"),
    "impact": ("impact", "影响", "影响范围"),
    "casualties": ("casualties", "伤亡", "伤亡损失", "损失", "losses"),
    "measures": ("measures", "措施", "已采取措施", "处置措施"),
    "needs": ("needs", "需求", "请求", "需求请求"),
    "reporter": ("reporter", "报告人", "联系人", "联系方式", "contact"),
}
_FIELD_WORD = {word.lower(): name for name, words in REPORT_KEYS.items() for word in words}
_FIELD = re.compile(
    r"(?P<key>" + "|".join(sorted((re.escape(w) for w in _FIELD_WORD), key=len, reverse=True)) + r")\s*+[:：]",
    re.I,
)


def resolve_event_time(value: str, *, now: datetime, tz: str) -> str:
    """'今天10:20' → '2026-11-25 10:20', '昨晚11点左右' → '2026-11-24 23:00 左右', '昨天' → '2026-11-24'.

    A report is read days later: "today" must be archived as the day it meant, resolved when the
    report is filed, in `tz`. A date without a time of day stays a date (no invented 09:00); words
    that are not a time ("刚才", "不详") are kept as written.
    """
    from timeparse import TimeParseError

    text = value.strip()
    try:
        when = parse_when(text, now=now, tz=tz, prefer_future=False)
    except (TimeParseError, ValueError):
        return value
    local = when.at.astimezone(get_zone(tz))
    resolved = f"{local:%Y-%m-%d %H:%M}" if _HAS_CLOCK.search(when.matched) else f"{local:%Y-%m-%d}"
    return f"{resolved} {when.rest}".strip()


def with_resolved_times(fields: dict[str, str], *, now: datetime, tz: str) -> dict[str, str]:
    """The report's fields with the event time resolved (see `resolve_event_time`)."""
    if not fields.get("event_time"):
        return fields
    return {**fields, "event_time": resolve_event_time(fields["event_time"], now=now, tz=tz)}


@bounded
def parse_report_fields(text: str) -> dict[str, str]:
    """'地点: 城东 影响：道路中断 reporter: 李四 138…' → {'place': '城东', …}; unknown text is ignored."""
    found: dict[str, str] = {}
    matches = list(_FIELD.finditer(text))
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = text[match.end() : end].strip(" \n;；,，")
        if value:
            found[_FIELD_WORD[match.group("key").lower()]] = value
    return found
