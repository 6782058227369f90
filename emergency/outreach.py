"""How the emergency services reach people: room posts, DMs and phone pushes.

Everything goes through `notifications.reach` (outbox rows that commit with the change that
causes them; the push's urgency and quiet hours follow its kind there).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.texts import tr
from notifications import reach
from records.clock import Clock

log = logging.getLogger(__name__)


def room_link(room_id: str) -> str:
    """A matrix.to link to a room that any client opens (via its server, so it can be joined)."""
    server = room_id.split(":", 1)[1] if ":" in room_id else ""
    via = f"?via={quote(server, safe='')}" if server else ""
    return f"https://matrix.to/#/{quote(room_id, safe='!:')}{via}"


async def post(
    session: AsyncSession,
    room_id: str | None,
    body: str,
    *,
    html: str | None = None,
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
    msgtype: str = "m.notice",
    mention: Iterable[str] = (),
    room_ref: int | None = None,
) -> None:
    """A notice in a room (the incident room, the duty room); nothing when there is no room.
    `room_ref` (incidents.room_of): in the incident room once the relay has made it.

    `urgent` (alerts, orders, nags, report deadlines) goes out before routine messages after
    an outage; `caused_by` is told if it can never be sent (see records.outbox). What someone
    must act on at once is an `m.text` that mentions them: Element's default rules keep
    `m.notice` silent."""
    if room_id or room_ref is not None:
        await reach.post(
            session,
            room_id or None,
            body,
            html=html,
            msgtype=msgtype,
            mention=mention,
            ref=ref,
            urgent=urgent,
            caused_by=caused_by,
            room_ref=None if room_id else room_ref,
        )


async def dm(
    session: AsyncSession,
    user_id: str,
    key: str,
    *,
    ref: str | None = None,
    default_lang: str = "zh",
    urgent: bool = False,
    caused_by: str | None = None,
    mention: bool = False,
    **params: object,  # the text's placeholders
) -> None:
    """A direct message in the person's own language (`urgent`, `caused_by`: as for `post`;
    `mention`: as for `reach.dm`)."""
    lang = await reach.language_of(session, user_id, default_lang)
    text = tr(key, lang, **params)
    await reach.dm(session, user_id, text, ref=ref, urgent=urgent, caused_by=caused_by, mention=mention)


async def push(
    session: AsyncSession,
    users: Iterable[str],
    *,
    kind: str,
    title_key: str,
    body: str,
    clock: Clock,
    ref: str | None = None,
    **params: object,  # the text's placeholders
) -> None:
    """A phone push (high urgency for emergencies); the DMs are sent apart."""
    title = {lang: tr(title_key, lang, **params) for lang in ("zh", "en")}
    await reach.push(session, users, kind=kind, title=title, body=body[:300], clock=clock, topic=ref, ref=ref)
