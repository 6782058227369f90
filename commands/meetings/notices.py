"""Telling people about a meeting (through notifications.reach): the room card, DMs, pushes.

Timers have no translator at hand, so texts are rendered from the feature's catalog (render):
a DM in the recipient's language and zone (the meeting's, i.e. the organizer's, when the
recipient never chose), a room message in the meeting's language and zone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import render
from commands.meetings.models import Attendee, Meeting
from commands.meetings.texts import render as text_in
from notifications import reach
from notifications.names import names_for
from records import outbox
from records.clock import Clock

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


async def post_card(session: AsyncSession, meeting: Meeting, rows: list[Attendee], now: datetime) -> None:
    body = render.card(meeting, rows, now)
    await reach.post(session, meeting.room_id, body, ref=card_ref(meeting.id))  # people by name


async def refresh_card(session: AsyncSession, meeting: Meeting, rows: list[Attendee], now: datetime) -> None:
    """Edit every copy of the room card (m.replace of what was sent under "card:M3"), people by name."""
    body = render.card(meeting, rows, now)
    names = await names_for(session, body)
    await outbox.enqueue_edits(session, card_ref(meeting.id), outbox.text_content(names.plain(body), names.html(body)))


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
    **params: object,
) -> None:
    """DM one person a text about `meeting` (and push it to their phone)."""
    await _tell(session, meeting, recipient, key, clock, params, ref=ref, push=push)


# Text parameters are of any type (a number, a word, a time), passed on beside tell's own keywords.
async def tell_all(
    session: AsyncSession, meeting: Meeting, users: Iterable[str], key: str, clock: Clock, /, **params: object
) -> None:
    for recipient in dict.fromkeys(users):
        await _tell(session, meeting, recipient, key, clock, params)


async def _tell(
    session: AsyncSession,
    meeting: Meeting,
    recipient: str,
    key: str,
    clock: Clock,
    params: Mapping[str, object],
    *,
    ref: str | None = None,
    push: bool = True,
) -> None:
    lang, tz = await prefs_for(session, recipient, meeting)
    now = clock.now()
    values = {**render.common_params(meeting, lang, tz, now), **render.localised(params, lang, tz, now)}
    body = text_in(key, lang, **values)
    await reach.dm(session, recipient, body, ref=ref)
    if push:
        await push_to(
            session, [recipient], text_in("meeting.push_title", lang), body, clock, ref=f"meeting:{meeting.code}"
        )


async def post(
    session: AsyncSession, meeting: Meeting, key: str, clock: Clock, /, *, ref: str | None = None, **params: object
) -> None:
    """A message in the meeting's room, in the meeting's language and zone."""
    lang, tz, now = meeting.lang, meeting.tz, clock.now()
    params = {**render.common_params(meeting, lang, tz, now), **render.localised(params, lang, tz, now)}
    body = text_in(key, lang, **params)
    await reach.post(session, meeting.room_id, body, ref=ref)  # people by name


async def push_to(
    session: AsyncSession, users: list[str], title: str, body: str, clock: Clock, *, ref: str | None = None
) -> None:
    """Web Push (kind "reminder"); the DM is already in the outbox, so never another DM."""
    await reach.push(session, users, kind="reminder", title=title, body=body, clock=clock, topic=ref, ref=ref)
