"""The inbound event ledger: each Matrix event is handled exactly once, across restarts too."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from records.clock import SystemClock
from records.models import HandledEvent


async def already_handled(session: AsyncSession, event_id: str) -> bool:
    found = await session.scalar(select(HandledEvent.event_id).where(HandledEvent.event_id == event_id))
    return found is not None


async def mark_handled(session: AsyncSession, event_id: str, room_id: str) -> None:
    """Record the event in the caller's transaction; a racing duplicate fails on the primary key."""
    session.add(HandledEvent(event_id=event_id, room_id=room_id, handled_at=SystemClock().now()))
    await session.flush()
