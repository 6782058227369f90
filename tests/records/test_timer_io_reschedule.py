"""A timer moved by a turn while its I/O handler runs keeps the turn's new plan.

A network timer's handler (a DM, a transcription) runs outside the transaction that completes
it. If a turn moves the timer meanwhile (schedule() with the same key) and commits just after
the completion has read the row, the completion must not then overwrite the new plan with
"done" (or, for a failed run, with its retry time): on PostgreSQL the completion read took no
lock, so its write waited for the turn and then overwrote it, and the reminder never fired.
SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from records import timers
from records.clock import Clock, FrozenClock
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry, claim_round, run_batch

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
KIND = "test.io"


async def _run_with_reschedule_meanwhile(database_url: str, *, fail: bool) -> Timer:
    """Run an I/O timer whose handler sees a turn move it; the turn commits only after the
    handler returned (or raised), while the completion is reading the row."""
    db = Database(database_url)
    clock = FrozenClock(T0)
    registry = TimerRegistry()
    turns: list[asyncio.Task[None]] = []

    async def handler(database: Database, timer: Timer, c: Clock) -> Fired | None:
        moved = asyncio.Event()

        async def turn() -> None:
            async with db.transaction() as session:
                await timers.schedule(session, KIND, LATER, {"v": 2}, key="k", clock=clock)
                moved.set()
                await asyncio.sleep(0.5)  # the rest of the turn, while the completion reads

        turns.append(asyncio.create_task(turn()))
        await moved.wait()
        if fail:
            raise RuntimeError("the network failed")
        return None

    registry.register_io(KIND)(handler)
    try:
        async with db.transaction() as session:
            await timers.schedule(session, KIND, T0, {"v": 1}, key="k", clock=clock)
        claim = await claim_round(db, clock)
        await run_batch(db, claim.ids, registry, clock, token=claim.token)
        await asyncio.gather(*turns)
        async with db.reading() as session:
            timer = await session.scalar(select(Timer).where(Timer.key == "k"))
    finally:
        await db.dispose()
    assert timer is not None
    return timer


async def test_a_timer_moved_while_its_handler_runs_fires_again_at_the_new_time(database_url: str) -> None:
    timer = await _run_with_reschedule_meanwhile(database_url, fail=False)
    assert (timer.status, timer.payload, timer.due_at, timer.claim_token) == ("pending", {"v": 2}, LATER, None)


async def test_a_failed_run_does_not_overwrite_the_new_plan(database_url: str) -> None:
    timer = await _run_with_reschedule_meanwhile(database_url, fail=True)
    assert (timer.status, timer.payload, timer.due_at, timer.attempts) == ("pending", {"v": 2}, LATER, 0)


async def test_a_run_whose_lapsed_claim_another_run_took_does_not_complete_it(database_url: str) -> None:
    """The first run stalled past its lease; the timer was claimed again and the second run asked
    to fire again later. The first run, finishing last, leaves the second's plan alone."""
    db = Database(database_url)
    clock = FrozenClock(T0)
    registry = TimerRegistry()
    calls: list[str] = []

    async def handler(database: Database, timer: Timer, c: Clock) -> Fired | None:
        calls.append("run")
        if len(calls) == 1:  # the first run stalls past its lease; the pump claims the timer again
            clock.advance(timers.CLAIM_LEASE + timedelta(seconds=1))
            again = await claim_round(db, clock)
            assert again.ids == [timer.id]
            await run_batch(db, again.ids, registry, clock, token=again.token)
            return None
        return Fired(again_at=LATER)

    registry.register_io(KIND)(handler)
    try:
        async with db.transaction() as session:
            await timers.schedule(session, KIND, T0, {"v": 1}, key="k", clock=clock)
        claim = await claim_round(db, clock)
        outcomes = await run_batch(db, claim.ids, registry, clock, token=claim.token)
        async with db.reading() as session:
            timer = await session.scalar(select(Timer).where(Timer.key == "k"))
    finally:
        await db.dispose()
    assert timer is not None and len(calls) == 2
    assert (timer.status, timer.due_at, timer.claim_token) == ("pending", LATER, None), outcomes
