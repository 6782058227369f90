"""The timer pump wakes when the next timer is due, not on the next poll (lateness ≪ 1 s).

(Kept with the tasks tests because reminders are what users feel late; it tests records.timers.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from records import timers
from records.clock import FrozenClock
from records.db import Database
from records.timers import CLAIM_BATCH, MIN_WAIT_SECONDS, TimerPump

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


async def _noop(timer_id: int) -> None:
    return None


async def test_the_pump_sleeps_until_the_next_due_timer_within_its_interval(db: Database) -> None:
    clock = FrozenClock(T0)
    pump = TimerPump(db, clock, _noop, interval=1.0)
    assert await pump.wait_time(0) == 1.0  # nothing pending: poll at the interval
    async with db.transaction() as session:
        await timers.schedule(session, "x.far", T0 + timedelta(days=30), key="far", clock=clock)
    assert await pump.wait_time(0) == 1.0
    async with db.transaction() as session:
        await timers.schedule(session, "x.soon", T0 + timedelta(milliseconds=250), key="soon", clock=clock)
    assert abs(await pump.wait_time(0) - 0.25) < 1e-6
    clock.advance(timedelta(seconds=1))  # due but not claimable (another pump holds it): a short nap
    assert await pump.wait_time(0) == MIN_WAIT_SECONDS
    assert await pump.wait_time(CLAIM_BATCH) == 0.0  # a full batch: claim again at once
    async with db.transaction() as session:
        await timers.cancel(session, "soon")
        await timers.cancel(session, "far")
    assert await pump.wait_time(0) == 1.0  # cancelled timers do not wake it
