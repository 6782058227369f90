"""Outbox actions: work the bot does with the homeserver on a handler's behalf, after it commits.

A handler must not talk to the homeserver inside its transaction (on SQLite the write lock is
held meanwhile, and a crash there loses or repeats the work). Instead it writes an *action*
row (``enqueue_action``: a kind and a JSON payload) in the room's lane, and the rows that depend
on it (an acknowledgement, a placeholder) wait for it with ``wait_for``, as rows wait for a room
the relay creates (``room_ref``).

The relay (zhiban.relay, the only process with a Matrix client) looks the kind up here and
calls its performer. A performer does the network part with no transaction open and returns an
``Outcome`` whose ``record`` runs in the one transaction that also marks the action ended. So a
crash before that commit leaves the action pending (it is simply done again, nothing was kept),
and a crash after it leaves the action ended (it is never done twice).

A performer that raises has not finished: the relay tries the row again like any send that
found nobody there (for as long as the homeserver answers nothing). A permanent failure is not
an exception but an ``Outcome`` with ``refused`` set: its ``record`` tells the person why (a
reply of its own), and the rows waiting for the action are withdrawn unsent.

Features register their performers at import (``register``), so the relay knows no feature.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from records import outbox
from records.clock import SystemClock
from records.models import OutboxMessage

#: The event type of an action row; its content is ``{"kind": ..., "payload": {...}}``.
ACTION = "zhiban.action"


@dataclass(frozen=True)
class Outcome:
    """How an action ended. ``record`` runs in the transaction that marks the row ended;
    ``refused`` (why, for the log and the row) means it ended without doing its work."""

    record: Callable[[AsyncSession], Awaitable[None]]
    refused: str | None = None


#: ``performer(client, payload) -> Outcome``: ``client`` is the bot's Matrix client.
Performer = Callable[[Any, dict[str, Any]], Awaitable[Outcome]]
_performers: dict[str, Performer] = {}


class UnknownAction(Exception):
    """No performer is registered for the row's kind (the feature is not loaded)."""


def register(kind: str, performer: Performer) -> None:
    _performers[kind] = performer


async def enqueue_action(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any],
    *,
    room_id: str,
    ref: str | None = None,
    priority: int = outbox.NORMAL,
) -> OutboxMessage:
    """Queue action ``kind`` in ``room_id``'s lane: it is performed after the rows queued there
    before it, and rows queued after it there are sent after it."""
    content = {"body": kind, "kind": kind, "payload": payload}
    return await outbox.enqueue(session, content, room_id=room_id, event_type=ACTION, ref=ref, priority=priority)


async def wait_for(session: AsyncSession, outbox_id: int | None, action: OutboxMessage) -> None:
    """Hold the queued row ``outbox_id`` until ``action`` has ended; it is withdrawn if the
    action is refused (an acknowledgement of work that never happened must not be sent)."""
    await outbox.wait_for_room(session, outbox_id, action.id)


async def perform(client: Any, row: OutboxMessage) -> Outcome:
    """Do the network part of action ``row`` (raises while it cannot be done yet)."""
    content = row.content or {}
    performer = _performers.get(str(content.get("kind")))
    if performer is None:
        raise UnknownAction(f"no performer for the outbox action {content.get('kind')!r}")
    return await performer(client, dict(content.get("payload") or {}))


async def conclude(session: AsyncSession, row: OutboxMessage, outcome: Outcome) -> bool:
    """End the stored action ``row`` with ``outcome``, in the caller's transaction.

    False (and nothing recorded) when the row had already ended: another pass did it.
    """
    if row.sent_at is not None or row.failed:
        return False
    await outcome.record(session)
    row.attempts += 1
    if outcome.refused is None:
        # `sent_at` with `room_id` is what the rows waiting for it look for (see zhiban.relay).
        row.sent_at = SystemClock().now()
        return True
    row.failed = True
    row.last_error = outcome.refused[:2000]
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.room_ref == row.id, OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False))
        .values(failed=True, last_error=f"withdrawn: action {row.id} was refused")
    )
    return True


@dataclass(frozen=True)
class Ended:
    """What running an action came to: whether it did its work, and whether the transaction
    that ended it scheduled timers (the workers are then told at once, see zhiban.wakeup)."""

    done: bool
    timers_scheduled: bool


async def run(db: Any, client: Any, row: OutboxMessage) -> Ended:
    """Perform action ``row`` and end it in one transaction.

    Raises (leaving the row pending) when it cannot be done yet. The relay's own path; tests
    that have no relay use it too.
    """
    outcome = await perform(client, row)
    async with db.transaction() as session:
        stored = await session.get(OutboxMessage, row.id)
        if stored is not None:
            await conclude(session, stored, outcome)
        scheduled = bool(session.info.get("timers_scheduled"))
    return Ended(outcome.refused is None, scheduled)
