"""The inbound event ledger: each Matrix event is handled exactly once, across restarts too."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from records.clock import SystemClock
from records.models import HandledEvent

_LEDGER = HandledEvent.metadata.tables[HandledEvent.__tablename__]


async def already_handled(session: AsyncSession, event_id: str) -> bool:
    found = await session.scalar(select(HandledEvent.event_id).where(HandledEvent.event_id == event_id))
    return found is not None


async def mark_handled(session: AsyncSession, event_id: str, room_id: str) -> None:
    """Record the event in the caller's transaction; a racing duplicate fails on the primary key.

    One Core INSERT, sent at once: the unit of work would add its bookkeeping to every event
    for a row nothing reads back.
    """
    await session.execute(insert(_LEDGER).values(event_id=event_id, room_id=room_id, handled_at=SystemClock().now()))


# Events older than the bot ever acts on (it ignores those over a few hours old) cannot be
# replayed, so their ledger rows can go. A month leaves ample margin.
KEEP = timedelta(days=30)


async def prune(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(HandledEvent).where(HandledEvent.handled_at < now - KEEP))
    return int(getattr(result, "rowcount", 0) or 0)
