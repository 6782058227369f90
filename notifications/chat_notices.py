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
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from notifications.models import Delivery, Notice
from records import deferred

# session.info keys: the people pushed in this transaction, and the chat notices it recorded.
_PUSHED = "zhiban_pushed_users"
_NOTED = "zhiban_chat_notices"
_KIND = "chat_notices"

#: What a chat notice keeps of the message: its first line as the title, the rest (cut) as body.
TITLE_CHARS = 120
BODY_CHARS = 300


def _split(text: str) -> tuple[str, str]:
    first, _, rest = text.strip().partition("\n")
    return first[:TITLE_CHARS], rest.strip()[:BODY_CHARS]


@dataclass(frozen=True)
class _Note:
    user_id: str
    title: str
    body: str
    ref: str | None
    at: datetime


async def note(session: AsyncSession, users: Iterable[str], text: str, *, at: datetime, ref: str | None = None) -> None:
    """Record `text` as a notice each of `users` got in chat, unless a push of this transaction
    already lists it for them. The rows are written when the transaction ends (records.deferred),
    all in two statements, so that a push that follows takes a note back without a DELETE."""
    pushed: set[str] = session.info.setdefault(_PUSHED, set())
    title, body = _split(text)
    for user_id in dict.fromkeys(users):
        if user_id not in pushed:
            deferred.add(session, _KIND, _Note(user_id, title, body, ref[:128] if ref else None, at))


@deferred.writer(_KIND, tables=("push_notices", "push_deliveries"))
def _write(session: Session, notes: list[_Note]) -> None:
    notices = [
        Notice(
            kind="chat",
            title={"*": n.title},
            body={"*": n.body},
            sensitive=False,
            ttl=0,
            urgency="normal",
            ref=n.ref,
            dm="never",
            created_at=n.at,
            expires_at=n.at,
        )
        for n in notes
    ]
    session.add_all(notices)
    session.flush()
    noted: dict[str, list[int]] = session.info.setdefault(_NOTED, {})
    for n, notice in zip(notes, notices, strict=True):
        session.add(
            Delivery(
                notice_id=notice.id,
                user_id=n.user_id,
                channel="chat",
                status="chat",
                attempts=0,
                created_at=n.at,
                updated_at=n.at,
            )
        )
        noted.setdefault(n.user_id, []).append(notice.id)
    session.flush()


async def pushed(session: AsyncSession, users: Iterable[str]) -> None:
    """`users` get a push in this transaction, which lists the notice for them: the chat notices
    this transaction recorded for them go, and no later one is recorded."""
    seen: set[str] = session.info.setdefault(_PUSHED, set())
    noted: dict[str, list[int]] = session.info.setdefault(_NOTED, {})
    users = list(users)
    seen.update(users)
    deferred.discard(session, _KIND, lambda n: n.user_id in seen)
    for user_id in users:
        gone = noted.pop(user_id, [])
        if gone:
            await session.execute(delete(Delivery).where(Delivery.notice_id.in_(gone)))
            await session.execute(delete(Notice).where(Notice.id.in_(gone)))
