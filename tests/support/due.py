"""Database helpers for fault tests: make timers come due, see that they ran, find the incident room.

Fault tests cannot wait out real minutes while a homeserver is down or Redis is empty, and the
processes they start run on the real clock: they move timers to "now" instead, as if their
time had come, and let the worker's own pump find them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from emergency.models import Incident
from records.clock import SystemClock
from records.db import Database
from records.models import Timer

__all__ = ["come_due", "incident_room", "nothing_due"]


async def come_due(database_url: str, kinds: tuple[str, ...]) -> int:
    """Move the pending timers of these kinds to now; returns how many were moved."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            result = await session.execute(
                update(Timer)
                .where(Timer.kind.in_(kinds), Timer.status == "pending")
                .values(due_at=SystemClock().now() - timedelta(seconds=1))
            )
            return int(getattr(result, "rowcount", 0))
    finally:
        await db.dispose()


async def nothing_due(database_url: str) -> bool:
    """No timer is due and not yet run (pending, or claimed, with its time past)."""
    db = Database(database_url)
    try:
        async with db.reading() as session:
            due = await session.scalar(
                select(Timer.id).where(Timer.status.in_(("pending", "claimed")), Timer.due_at <= SystemClock().now())
            )
            return due is None
    finally:
        await db.dispose()


async def incident_room(database_url: str) -> str:
    """The room of the (only) incident, once the relay has made it."""
    db = Database(database_url)
    try:
        async with db.reading() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            return incident.room_id
    finally:
        await db.dispose()
