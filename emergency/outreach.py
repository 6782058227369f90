"""How the emergency services reach people: room posts, DMs and phone pushes.

Everything goes through the outbox (so it commits with the change that causes it); pushes go
through `notifications.service.notify`, behind `push()`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from emergency.texts import tr
from notifications.notice import NoticeSpec
from notifications.service import notify
from records import outbox, people
from records.clock import Clock

log = logging.getLogger(__name__)


def room_link(room_id: str) -> str:
    """A matrix.to link to a room that any client opens (via its server, so it can be joined)."""
    server = room_id.split(":", 1)[1] if ":" in room_id else ""
    via = f"?via={quote(server, safe='')}" if server else ""
    return f"https://matrix.to/#/{quote(room_id, safe='!:')}{via}"


async def lang_of(session: AsyncSession, user_id: str, default: str = "zh") -> str:
    lang, _ = await people.preferences(session, user_id)
    return lang or default


async def post(
    session: AsyncSession,
    room_id: str | None,
    body: str,
    *,
    html: str | None = None,
    ref: str | None = None,
    urgent: bool = False,
    caused_by: str | None = None,
) -> None:
    """A notice in a room (the incident room, the duty room); nothing when there is no room.

    `urgent` (alerts, orders, nags, report deadlines) goes out before routine messages after
    an outage; `caused_by` is told if it can never be sent (see records.outbox)."""
    if room_id:
        content = outbox.text_content(body, html, msgtype="m.notice")
        priority = outbox.URGENT if urgent else outbox.NORMAL
        await outbox.enqueue(session, content, room_id=room_id, ref=ref, priority=priority, caused_by=caused_by)


async def dm(
    session: AsyncSession,
    user_id: str,
    key: str,
    *,
    ref: str | None = None,
    default_lang: str = "zh",
    urgent: bool = False,
    caused_by: str | None = None,
    **params: Any,
) -> None:
    """A direct message in the person's own language (`urgent`, `caused_by`: as for `post`)."""
    lang = await lang_of(session, user_id, default_lang)
    content = outbox.text_content(tr(key, lang, **params))
    priority = outbox.URGENT if urgent else outbox.NORMAL
    await outbox.enqueue(session, content, to_user=user_id, ref=ref, priority=priority, caused_by=caused_by)


async def push(
    session: AsyncSession,
    users: Iterable[str],
    *,
    kind: str,
    title_key: str,
    body: str,
    clock: Clock,
    ref: str | None = None,
    **params: Any,
) -> None:
    """A phone push (high urgency for emergencies); the DMs are sent apart."""
    recipients = list(dict.fromkeys(users))
    if not recipients:
        return
    title = {lang: tr(title_key, lang, **params) for lang in ("zh", "en")}
    spec = NoticeSpec(kind=kind, title=title, body=body[:300], ref=ref, topic=ref, dm="never")
    await notify(session, recipients, spec, clock=clock)
