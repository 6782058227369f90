"""What people see: the room card with its live tally, DMs in each person's language, pushes.

Timers have no translator at hand, so texts are rendered here from the feature's catalog:
a DM in the recipient's language and zone (the meeting's, i.e. the organizer's, when the
recipient never chose), a room message in the meeting's language and zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings.models import ATTEND, CANCELLED, DEPUTY, ENDED, LEAVE, PENDING, Attendee, Meeting
from commands.meetings.texts import render
from notifications import reach
from notifications.reach import as_html
from records import outbox
from records.clock import Clock
from timeparse import format_when, get_zone

# Ids of the messages the feature sends, so that reactions and threads find their meeting.
_CARD = "card:M"
_NOTICE = "notice:M"


def card_ref(meeting_id: int) -> str:
    return f"{_CARD}{meeting_id}"


def notice_ref(meeting_id: int, user: str) -> str:
    """The DM notice of one attendee: reactions on it count like reactions on the card."""
    return f"{_NOTICE}{meeting_id}:{user}"


def parse_ref(ref: str | None) -> int | None:
    """The meeting a card or DM notice belongs to, or None for anything else."""
    if not ref:
        return None
    for prefix in (_CARD, _NOTICE):
        if ref.startswith(prefix):
            digits = ref[len(prefix) :].split(":", 1)[0]
            return int(digits) if digits.isdigit() else None
    return None


async def prefs_for(session: AsyncSession, user: str, meeting: Meeting) -> tuple[str, str]:
    who = await reach.reader(session, user, lang=meeting.lang, tz=meeting.tz)
    return who.lang, who.tz


def span(meeting: Meeting, lang: str, tz: str, now: datetime) -> str:
    """ "11月26日（周四）15:00–16:00": the end only as a clock time."""
    start = format_when(meeting.starts_at, tz=tz, lang=lang, now=now)
    return f"{start}–{meeting.ends_at.astimezone(get_zone(tz)):%H:%M}"


def place_of(meeting: Meeting, lang: str) -> str:
    return meeting.place or render("meeting.place_tbd", lang)


def common_params(meeting: Meeting, lang: str, tz: str, now: datetime) -> dict[str, Any]:
    return {
        "code": meeting.code,
        "title": meeting.title,
        "when": span(meeting, lang, tz, now),
        "place": place_of(meeting, lang),
        "organizer": meeting.organizer,
    }


def _attendee_line(row: Attendee, lang: str) -> str:
    suffix = render("meeting.line_for", lang, user=row.deputy_for) if row.deputy_for else ""
    if row.response == ATTEND:
        return render("meeting.line_attend", lang, user=row.user_id, extra=suffix)
    if row.response == LEAVE:
        reason = row.reason or render("meeting.reason_pending", lang)
        return render("meeting.line_leave", lang, user=row.user_id, reason=reason, extra=suffix)
    if row.response == DEPUTY:
        return render("meeting.line_deputy", lang, user=row.user_id, deputy=row.deputy or "?", extra=suffix)
    return render("meeting.line_pending", lang, user=row.user_id, extra=suffix)


def tally(rows: Iterable[Attendee]) -> dict[str, int]:
    counts = {ATTEND: 0, LEAVE: 0, DEPUTY: 0, PENDING: 0}
    for row in rows:
        counts[row.response] = counts.get(row.response, 0) + 1
    return counts


def render_card(meeting: Meeting, rows: list[Attendee], now: datetime) -> str:
    """The room card, in the meeting's language and zone, with the live tally and who said what."""
    lang, tz = meeting.lang, meeting.tz
    counts = tally(rows)
    lines = "".join(_attendee_line(row, lang) for row in rows)
    if meeting.status == CANCELLED:
        reason = render("meeting.reason_suffix", lang, reason=meeting.cancel_reason) if meeting.cancel_reason else ""
        status = render("meeting.status_cancelled", lang, reason=reason)
    elif meeting.status == ENDED:
        status = render("meeting.status_ended", lang)
    else:
        status = render("meeting.card_hint", lang, code=meeting.code)
    return render(
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


async def post_card(session: AsyncSession, meeting: Meeting, rows: list[Attendee], now: datetime) -> None:
    body = render_card(meeting, rows, now)
    await reach.post(session, meeting.room_id, body, html=as_html(body), ref=card_ref(meeting.id))


async def refresh_card(session: AsyncSession, meeting: Meeting, rows: list[Attendee], now: datetime) -> None:
    """Edit the room card in place (an m.replace of the card sent under "card:M3")."""
    body = render_card(meeting, rows, now)
    await outbox.enqueue_edit(session, card_ref(meeting.id), outbox.text_content(body, as_html(body)))


async def tell(
    session: AsyncSession,
    meeting: Meeting,
    recipient: str,
    key: str,
    clock: Clock,
    /,
    *,
    ref: str | None = None,
    push: bool = True,
    **params: Any,
) -> None:
    """DM one person a text about `meeting` (and push it to their phone)."""
    lang, tz = await prefs_for(session, recipient, meeting)
    now = clock.now()
    values = {**common_params(meeting, lang, tz, now), **_localise(params, lang, tz, now)}
    body = render(key, lang, **values)
    await reach.dm(session, recipient, body, ref=ref)
    if push:
        await push_to(
            session, [recipient], render("meeting.push_title", lang), body, clock, ref=f"meeting:{meeting.code}"
        )


async def tell_all(
    session: AsyncSession, meeting: Meeting, users: Iterable[str], key: str, clock: Clock, /, **params: Any
) -> None:
    for recipient in dict.fromkeys(users):
        await tell(session, meeting, recipient, key, clock, **params)


async def post(
    session: AsyncSession, meeting: Meeting, key: str, clock: Clock, /, *, ref: str | None = None, **params: Any
) -> None:
    """A message in the meeting's room, in the meeting's language and zone."""
    lang, tz, now = meeting.lang, meeting.tz, clock.now()
    body = render(key, lang, **{**common_params(meeting, lang, tz, now), **_localise(params, lang, tz, now)})
    await reach.post(session, meeting.room_id, body, html=as_html(body), ref=ref)


def _localise(params: dict[str, Any], lang: str, tz: str, now: datetime) -> dict[str, Any]:
    return {k: format_when(v, tz=tz, lang=lang, now=now) if isinstance(v, datetime) else v for k, v in params.items()}


async def push_to(
    session: AsyncSession, users: list[str], title: str, body: str, clock: Clock, *, ref: str | None = None
) -> None:
    """Web Push (kind "reminder"); the DM is already in the outbox, so never another DM."""
    await reach.push(session, users, kind="reminder", title=title, body=body, clock=clock, topic=ref, ref=ref)
