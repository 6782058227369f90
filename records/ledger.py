"""The inbound event ledger: each Matrix event is handled exactly once, across restarts too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from records.clock import SystemClock
from records.models import HandledEvent

_LEDGER = HandledEvent.metadata.tables[HandledEvent.__tablename__]

# INSERT … ON CONFLICT DO NOTHING RETURNING event_id, built once (its compiled form and, on
# PostgreSQL, its prepared statement are then reused by every event): a row back means this
# transaction recorded the event; none, that another transaction already had (a replay). A
# racing duplicate still waits on the first one's row and sees it once that one commits, as a
# primary-key violation would, without an exception or, on PostgreSQL, an aborted transaction.
_RECORD = {
    "postgresql": postgresql.insert(_LEDGER).on_conflict_do_nothing().returning(_LEDGER.c.event_id),
    "sqlite": sqlite.insert(_LEDGER).on_conflict_do_nothing().returning(_LEDGER.c.event_id),
}


async def already_handled(session: AsyncSession, event_id: str) -> bool:
    found = await session.scalar(select(HandledEvent.event_id).where(HandledEvent.event_id == event_id))
    return found is not None


async def mark_handled(session: AsyncSession, event_id: str, room_id: str) -> bool:
    """Record the event in the caller's transaction: True the first time, False when it was
    handled before (the turn then does nothing).

    One Core statement, sent at once: the unit of work would add its bookkeeping to every event
    for a row nothing reads back.
    """
    statement = _RECORD[session.get_bind().dialect.name]
    params = {"event_id": event_id, "room_id": room_id, "handled_at": SystemClock().now()}
    return (await session.execute(statement, params)).scalar() is not None


# Events older than the bot ever acts on (it ignores those over a few hours old) cannot be
# replayed, so their ledger rows can go. A month leaves ample margin.
KEEP = timedelta(days=30)


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(HandledEvent).where(HandledEvent.handled_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
