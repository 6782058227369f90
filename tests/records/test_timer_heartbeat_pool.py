"""A running batch keeps its claims while the other jobs hold every pooled connection.

The worker's pool has `database.pool_size` connections and a turn waits up to
`database.pool_timeout_seconds` (120 s) for one; the claims' lease is 8 s. A heartbeat that
queued behind the jobs for a pooled connection let its claims lapse, and the next pump handed
the same DMs and transcriptions to another job, which sent them again. PostgreSQL (SQLite has
no pool to wait for).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from records import timers
from records.clock import Clock, FrozenClock
from records.config import DatabaseSettings
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry, claim_round, run_batch

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=8)
KIND = "test.transcribe"


async def test_the_heartbeat_renews_claims_while_the_pool_is_exhausted(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps no pool of connections to wait for")
    # One pooled connection, and a long wait for it, as a busy worker's pool of 10 at 120 s.
    db = Database(database_url, pool=DatabaseSettings(pool_size=1, pool_max_overflow=0, pool_timeout_seconds=60))
    observer = Database(database_url, pooled=False)
    clock = FrozenClock(T0)
    registry = TimerRegistry()
    seen: list[datetime] = []

    async def transcribe(database: Database, timer: Timer, c: Clock) -> Fired | None:
        # Time passes: the claim must be renewed past the lease taken at T0.
        clock.advance(timedelta(seconds=6))
        # Another job holds the pool's only connection for a while (a long transaction).
        async with database.reading() as busy:
            await busy.execute(select(1))
            await asyncio.sleep(1.0)  # many heartbeats' worth (every 0.05 s here)
            async with observer.reading() as session:
                until = await session.scalar(select(Timer.claimed_until).where(Timer.id == timer.id))
            assert until is not None
            seen.append(until)
        return None

    registry.register_io(KIND)(transcribe)
    try:
        async with db.transaction() as session:
            await timers.schedule(session, KIND, T0, {}, key="voice:1", clock=clock)
        claim = await claim_round(db, clock, lease=LEASE)
        outcomes = await run_batch(
            db, claim.ids, registry, clock, token=claim.token, lease=LEASE, heartbeat_seconds=0.05
        )
    finally:
        await observer.dispose()
        await db.dispose()
    assert list(outcomes.values()) == ["done"]
    # Renewed from the clock's new time while the job's connection was held, not left at T0 + lease.
    assert seen == [T0 + timedelta(seconds=6) + LEASE]
