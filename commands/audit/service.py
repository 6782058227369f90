"""Taking a checkpoint: verify, sign the head, keep it in the table and the file, post it.

Run daily by a durable timer in the worker, and on demand by `zhiban audit checkpoint`. Both
reach the room only through the outbox.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.audit import render
from records import audit, outbox, timers
from records.audit_seal import Anchors, Checkpoint, installed
from records.clock import Clock
from records.db import Database
from records.models import Timer
from records.timers import Fired

log = logging.getLogger(__name__)

KIND = "audit.checkpoint"
TIMER_KEY = "audit.checkpoint"
# The first checkpoint after a fresh start waits a little, like the other housekeeping.
FIRST_AFTER = timedelta(hours=1)


async def _alert(db: Database, anchors: Anchors, broken: audit.TrailBroken) -> None:
    if anchors.room is None:
        return
    async with db.transaction() as session:
        await outbox.enqueue(session, render.broken_notice(anchors.lang, broken), room_id=anchors.room)


async def take(db: Database, anchors: Anchors, clock: Clock) -> Checkpoint:
    """Verify the trail, then sign its head; a broken trail is reported to the room and raised.

    The long walk runs in a read-only session (on SQLite a write transaction would hold the
    lock for all of it); the write transaction re-checks only what was appended meanwhile.
    """
    try:
        async with db.reading() as session:
            verified = await audit.verify(session, key=anchors.key, checkpoint_file=anchors.checkpoint_file)
        if not verified.ok:
            raise audit.TrailBroken(verified.broken_at, verified.reason)
        async with db.transaction() as session:
            signed = await audit.checkpoint(
                session, key=anchors.key, verified=verified, clock=clock, checkpoint_file=anchors.checkpoint_file
            )
            if anchors.room is not None:
                await outbox.enqueue(session, render.checkpoint_notice(anchors.lang, signed), room_id=anchors.room)
    except audit.TrailBroken as broken:
        log.error("no audit checkpoint taken: %s", broken)
        await _alert(db, anchors, broken)
        raise
    return signed


async def fire(db: Database, timer: Timer, clock: Clock) -> Fired:
    """The daily timer; runs in the worker, which was given the key at start."""
    every = timedelta(hours=int(timer.payload.get("every_hours", 24)))
    anchors = installed()
    if anchors is None:
        log.error("no audit key in this process: the audit checkpoint is skipped (start it with `zhiban worker`)")
    else:
        try:
            await take(db, anchors, clock)
        except audit.TrailBroken:
            pass  # reported to the log and the room; tried again next time
    return Fired(again_at=clock.now() + every)


async def plan(session: AsyncSession, clock: Clock, *, every_hours: int) -> None:
    """Make sure the checkpoint timer is pending (at every bot start; it then re-plans itself)."""
    existing = await session.scalar(select(Timer).where(Timer.key == TIMER_KEY))
    if existing is not None and existing.status in ("pending", "claimed"):
        if existing.payload.get("every_hours") != every_hours and existing.status == "pending":
            existing.payload = {"every_hours": every_hours}
        return
    await timers.schedule(
        session, KIND, clock.now() + FIRST_AFTER, {"every_hours": every_hours}, key=TIMER_KEY, clock=clock
    )
