"""How a meeting reads: the room card with its tally, the minutes, replies, and the .ics file.

Pure functions of records and a language and zone; timers and workers (no chat translator at
hand) render from the feature's catalog (texts.render), handlers pass their turn's `t`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from bot.i18n import Translator
from commands.meetings.conflicts import Conflict
from commands.meetings.models import (
    ATTEND,
    CANCELLED,
    DEPUTY,
    ENDED,
    LEAVE,
    PENDING,
    ActionItem,
    Attendee,
    Meeting,
    MinuteLine,
)
from commands.meetings.texts import render as text_in
from timeparse import format_when, get_zone


def span(meeting: Meeting, lang: str, tz: str, now: datetime) -> str:
    """ "11月26日（周四）15:00–16:00": the end only as a clock time."""
    start = format_when(meeting.starts_at, tz=tz, lang=lang, now=now)
    return f"{start}–{meeting.ends_at.astimezone(get_zone(tz)):%H:%M}"


def place_of(meeting: Meeting, lang: str) -> str:
    return meeting.place or text_in("meeting.place_tbd", lang)


# Text parameters are of several types (str, int, datetime): the translator formats each.
def common_params(meeting: Meeting, lang: str, tz: str, now: datetime) -> dict[str, object]:
    return {
        "code": meeting.code,
        "title": meeting.title,
        "when": span(meeting, lang, tz, now),
        "place": place_of(meeting, lang),
        "organizer": meeting.organizer,
    }


def localised(params: Mapping[str, object], lang: str, tz: str, now: datetime) -> dict[str, object]:
    """`params` with every time written for the reader."""
    return {k: format_when(v, tz=tz, lang=lang, now=now) if isinstance(v, datetime) else v for k, v in params.items()}


# -- the room card ---------------------------------------------------------------------------
def _attendee_line(row: Attendee, lang: str) -> str:
    suffix = text_in("meeting.line_for", lang, user=row.deputy_for) if row.deputy_for else ""
    if row.response == ATTEND:
        return text_in("meeting.line_attend", lang, user=row.user_id, extra=suffix)
    if row.response == LEAVE:
        reason = row.reason or text_in("meeting.reason_pending", lang)
        return text_in("meeting.line_leave", lang, user=row.user_id, reason=reason, extra=suffix)
    if row.response == DEPUTY:
        return text_in("meeting.line_deputy", lang, user=row.user_id, deputy=row.deputy or "?", extra=suffix)
    return text_in("meeting.line_pending", lang, user=row.user_id, extra=suffix)


def tally(rows: Iterable[Attendee]) -> dict[str, int]:
    counts = {ATTEND: 0, LEAVE: 0, DEPUTY: 0, PENDING: 0}
    for row in rows:
        counts[row.response] = counts.get(row.response, 0) + 1
    return counts


def card(meeting: Meeting, rows: list[Attendee], now: datetime) -> str:
    """The room card, in the meeting's language and zone, with the live tally and who said what."""
    lang, tz = meeting.lang, meeting.tz
    counts = tally(rows)
    lines = "".join(_attendee_line(row, lang) for row in rows)
    if meeting.status == CANCELLED:
        reason = text_in("meeting.reason_suffix", lang, reason=meeting.cancel_reason) if meeting.cancel_reason else ""
        status = text_in("meeting.status_cancelled", lang, reason=reason)
    elif meeting.status == ENDED:
        status = text_in("meeting.status_ended", lang)
    else:
        status = text_in("meeting.card_hint", lang, code=meeting.code)
    return text_in(
        "meeting.card",
        lang,
        **common_params(meeting, lang, tz, now),
        attend=counts[ATTEND],
        leave=counts[LEAVE],
        deputy=counts[DEPUTY],
        pending=counts[PENDING],
        people=lines,
        status=status,
    )


def reason_suffix(meeting: Meeting, lang: str) -> str:
    """ " (reason: …)" after a cancellation, or nothing when none was given."""
    return text_in("meeting.reason_suffix", lang, reason=meeting.cancel_reason) if meeting.cancel_reason else ""


# -- the minutes -----------------------------------------------------------------------------
def minutes(
    meeting: Meeting,
    rows: list[Attendee],
    lines: list[MinuteLine],
    items: list[ActionItem],
    lang: str,
    tz: str,
    now: datetime,
) -> str:
    """The minutes as Markdown: attendance (present, absent, on leave, deputies), lines, actions."""
    none = text_in("meeting.none", lang)
    present = [x.user_id for x in rows if x.checked_in_at is not None]
    absent = [x.user_id for x in rows if x.expected and x.checked_in_at is None]
    leave = [
        text_in("meeting.leave_item", lang, user=x.user_id, reason=x.reason or "—") for x in rows if x.response == LEAVE
    ]
    deputies = [
        text_in("meeting.deputy_item", lang, user=x.user_id, deputy=x.deputy) for x in rows if x.response == DEPUTY
    ]
    minute_text = "\n".join(f"- {x.at.astimezone(get_zone(tz)):%H:%M} {x.author}: {x.text}" for x in lines)
    action_text = "\n".join(
        text_in(
            "meeting.action_item",
            lang,
            user=x.assignee,
            task=x.title,
            due=format_when(x.due_at, tz=tz, lang=lang, now=now),
            code=f"T{x.task_id}" if x.task_id else "—",
        )
        for x in items
    )
    return text_in(
        "meeting.minutes",
        lang,
        **common_params(meeting, lang, tz, now),
        present=", ".join(present) or none,
        absent=", ".join(absent) or none,
        leave=", ".join(leave) or none,
        deputies=", ".join(deputies) or none,
        lines=minute_text or "- " + none,
        actions=action_text or "- " + none,
    )


# -- replies in chat -------------------------------------------------------------------------
def conflict_line(c: Conflict, t: Translator, lang: str, tz: str, now: datetime) -> str:
    if c.kind == "capacity":
        return t("meeting.conflict_capacity", place=c.who, seats=c.seats, needed=c.needed)
    when = format_when(c.starts_at, tz=tz, lang=lang, now=now) if c.starts_at else ""
    key = "meeting.conflict_place" if c.kind == "place" else "meeting.conflict_person"
    return t(key, place=c.who, user=c.who, code=c.code, title=c.title, when=when)


def created_text(meeting: Meeting, count: int, t: Translator, lang: str, tz: str, now: datetime) -> str:
    """The reply to the organizer, echoing the time as understood (in their zone)."""
    return t(
        "meeting.created",
        code=meeting.code,
        title=meeting.title,
        when=format_when(meeting.starts_at, tz=tz, lang=lang, now=now),
        place=meeting.place or t("meeting.place_tbd"),
        count=count,
    )


def list_line(meeting: Meeting, answer: str | None, t: Translator, lang: str, tz: str, now: datetime) -> str:
    """One meeting in `!meetings`, with the reader's own answer when they have one."""
    mine = t("meeting.list_answer", answer=t(f"meeting.answer.{answer}")) if answer else ""
    when = format_when(meeting.starts_at, tz=tz, lang=lang, now=now, hints=True)
    return t(
        "meeting.list_item", code=meeting.code, when=when, title=meeting.title, place=place_of(meeting, lang), mine=mine
    )


# -- the calendar file -----------------------------------------------------------------------
# The UID is stable per meeting and SEQUENCE follows the meeting's revision, so a calendar that
# imported the first file updates the event (new time, new place, cancelled) on the next one.
_PARTSTAT = {ATTEND: "ACCEPTED", LEAVE: "DECLINED", DEPUTY: "DELEGATED"}
MIMETYPE = "text/calendar"


def uid_of(meeting: Meeting, domain: str = "zhiban") -> str:
    return f"meeting-{meeting.id}@{domain}"


def _address(user_id: str) -> vCalAddress:
    # Matrix IDs are not mail addresses; a matrix.to URI names the person unambiguously.
    address = vCalAddress(f"https://matrix.to/#/{user_id}")
    address.params["cn"] = vText(user_id)
    return address


def meeting_ics(meeting: Meeting, attendees: list[Attendee], *, now: datetime, domain: str = "zhiban") -> bytes:
    """The meeting as an iCalendar VCALENDAR with one VEVENT (times in UTC)."""
    calendar = Calendar()
    calendar.add("prodid", "-//Zhiban//Meetings//ZH")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.status == CANCELLED else "PUBLISH")
    event = Event()
    event.add("uid", uid_of(meeting, domain))
    event.add("dtstamp", now)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", f"{meeting.code} {meeting.title}")
    if meeting.place:
        event.add("location", meeting.place)
    event.add("sequence", meeting.revision)
    event.add("status", "CANCELLED" if meeting.status == CANCELLED else "CONFIRMED")
    event["organizer"] = _address(meeting.organizer)
    for row in attendees:
        address = _address(row.user_id)
        address.params["partstat"] = vText(_PARTSTAT.get(row.response, "NEEDS-ACTION"))
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()


# An m.event content is JSON: values of several types.
def file_content(filename: str, url: str, size: int) -> dict[str, object]:
    """The m.file event for an uploaded .ics: clients show it as a downloadable attachment."""
    return {"msgtype": "m.file", "body": filename, "url": url, "info": {"mimetype": MIMETYPE, "size": size}}
