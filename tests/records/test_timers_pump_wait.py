"""The timer pump wakes when the next timer is due, not on the next poll (lateness ≪ 1 s).

(Kept with the tasks tests because reminders are what users feel late; it tests records.timers.)
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from records import timers
from records.clock import FrozenClock
from records.db import Database
from records.timers import CLAIM_BATCH, MIN_WAIT_SECONDS, Claim, TimerPump

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


async def test_a_pump_whose_queue_is_full_claims_as_soon_as_a_job_makes_room(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the queue is full the pump claims nothing; a job finishing in its process wakes
    it (zhiban.jobs.after_batch), even one that finishes while the pump is looking."""
    monkeypatch.setattr(timers, "FULL_WAIT_SECONDS", 3600.0)  # only the wake-up can end the nap
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        timer_id = (await timers.schedule(session, "x.now", T0, key="now", clock=clock)).id
    sent: asyncio.Queue[Claim] = asyncio.Queue()
    looked: list[bool] = []

    async def has_room() -> bool:
        if not looked:
            pump.wake()  # a job of this process finishes while the pump looks at the queue
        looked.append(bool(looked))
        return looked[-1]

    async def send(claim: Claim) -> None:
        sent.put_nowait(claim)

    pump = TimerPump(db, clock, batch_transport=send, has_room=has_room, interval=3600)
    running = asyncio.create_task(pump.run())
    try:
        claim = await asyncio.wait_for(sent.get(), 30)  # a bound on a hang, not a speed check
    finally:
        pump.stop()
        await running
    assert claim.ids == [timer_id]
    assert looked[0] is False, "the pump claimed while the queue was full"
