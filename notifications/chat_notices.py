"""Notices that reached a person in chat only, kept beside their pushes.

The phone page's "最近通知" (and the board's notices) list a person's notices from the push
tables (`subscriptions.recent_notices`). A DM or a room post that names someone is a notice too,
even when no push goes with it (a task reminder, an approval waiting for them, a hand-over), so
`reach.dm` and `reach.post` record it here as a notice with one delivery on the "chat" channel,
in the same transaction as the message.

A message that also comes as a push (an alert, an order: `reach.push` in the same transaction)
is listed once, by the push's own record, whichever of the two the feature wrote first: the
transaction remembers who was pushed and which chat notices it wrote (`session.info`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import Delivery, Notice

# session.info keys: the people pushed in this transaction, and the chat notices it recorded.
_PUSHED = "zhiban_pushed_users"
_NOTED = "zhiban_chat_notices"

#: What a chat notice keeps of the message: its first line as the title, the rest (cut) as body.
TITLE_CHARS = 120
BODY_CHARS = 300


def _split(text: str) -> tuple[str, str]:
    first, _, rest = text.strip().partition("\n")
    return first[:TITLE_CHARS], rest.strip()[:BODY_CHARS]


async def note(session: AsyncSession, users: Iterable[str], text: str, *, at: datetime, ref: str | None = None) -> None:
    """Record `text` as a notice each of `users` got in chat, unless a push of this transaction
    already lists it for them."""
    pushed: set[str] = session.info.setdefault(_PUSHED, set())
    noted: dict[str, list[int]] = session.info.setdefault(_NOTED, {})
    title, body = _split(text)
    for user_id in dict.fromkeys(users):
        if user_id in pushed:
            continue
        notice = Notice(
            kind="chat",
            title={"*": title},
            body={"*": body},
            sensitive=False,
            ttl=0,
            urgency="normal",
            ref=ref[:128] if ref else None,
            dm="never",
            created_at=at,
            expires_at=at,
        )
        session.add(notice)
        await session.flush()
        session.add(
            Delivery(
                notice_id=notice.id,
                user_id=user_id,
                channel="chat",
                status="chat",
                attempts=0,
                created_at=at,
                updated_at=at,
            )
        )
        noted.setdefault(user_id, []).append(notice.id)


async def pushed(session: AsyncSession, users: Iterable[str]) -> None:
    """`users` get a push in this transaction, which lists the notice for them: the chat notices
    this transaction recorded for them go, and no later one is recorded."""
    seen: set[str] = session.info.setdefault(_PUSHED, set())
    noted: dict[str, list[int]] = session.info.setdefault(_NOTED, {})
    for user_id in users:
        seen.add(user_id)
        gone = noted.pop(user_id, [])
        if gone:
            await session.execute(delete(Delivery).where(Delivery.notice_id.in_(gone)))
            await session.execute(delete(Notice).where(Notice.id.in_(gone)))
