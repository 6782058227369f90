"""A timer doing network work fires once even when its job waited in the queue past its lease.

Under a backlog a job may wait longer than its claims' short lease; the pump then claims the
same timers again into another job. Each claim round has a token and a job runs only what its
token still holds, so the push, DM or transcription goes out once, whichever job runs first or
if both run at the same time. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from records import timers
from records.clock import Clock, FrozenClock
from records.db import Database
from records.models import Timer
from records.timers import Claim, Fired, TimerRegistry, claim_round, run_batch

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=8)
KIND = "test.push"


class Pushes:
    """An I/O timer handler that counts what it sent."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.registry = TimerRegistry()
        self.registry.register_io(KIND)(self.push)

    async def push(self, database: Database, timer: Timer, clock: Clock) -> Fired | None:
        self.sent[timer.id] += 1
        await asyncio.sleep(0.05)  # the network: long enough for two runs to overlap
        return None


async def _schedule(db: Database, clock: FrozenClock, count: int) -> list[int]:
    async with db.transaction() as session:
        return [
            (await timers.schedule(session, KIND, clock.now(), {}, key=f"push:{n}", clock=clock)).id
            for n in range(count)
        ]


async def _statuses(db: Database, ids: list[int]) -> set[str]:
    async with db.reading() as session:
        return set(await session.scalars(select(Timer.status).where(Timer.id.in_(ids))))


async def _claimed_twice(db: Database, clock: FrozenClock, ids: list[int]) -> tuple[Claim, Claim]:
    stale = await claim_round(db, clock, lease=LEASE)
    clock.advance(LEASE + timedelta(seconds=1))  # the job waited behind slower ones
    fresh = await claim_round(db, clock, lease=LEASE)
    assert sorted(stale.ids) == sorted(fresh.ids) == sorted(ids)
    assert stale.token != fresh.token
    return stale, fresh


@pytest.mark.parametrize("order", ["together", "stale first", "fresh first"])
async def test_a_timer_claimed_again_past_its_lease_sends_once(db: Database, order: str) -> None:
    clock, pushes = FrozenClock(T0), Pushes()
    ids = await _schedule(db, clock, 5)
    stale, fresh = await _claimed_twice(db, clock, ids)

    def job(claim: Claim) -> asyncio.Future[dict[int, str]]:
        return asyncio.ensure_future(run_batch(db, claim.ids, pushes.registry, clock, token=claim.token, lease=LEASE))

    if order == "together":
        stale_run, fresh_run = await asyncio.gather(job(stale), job(fresh))
    elif order == "stale first":
        stale_run = await job(stale)
        fresh_run = await job(fresh)
    else:
        fresh_run = await job(fresh)
        stale_run = await job(stale)

    assert pushes.sent == Counter(ids), "a push went out twice, or not at all"
    assert await _statuses(db, ids) == {"done"}
    # The token, not the order, decides: the stale job runs nothing the fresh one holds.
    assert stale_run == dict.fromkeys(ids, "skipped")
    assert fresh_run == dict.fromkeys(ids, "done")


async def test_a_stale_job_runs_the_timers_it_still_holds(db: Database) -> None:
    """A re-claim is per timer: what the new round did not take is still the old job's."""
    clock, pushes = FrozenClock(T0), Pushes()
    ids = await _schedule(db, clock, 4)
    stale = await claim_round(db, clock, lease=LEASE)
    clock.advance(LEASE + timedelta(seconds=1))
    fresh = await claim_round(db, clock, limit=2, lease=LEASE)
    outcomes = await run_batch(db, stale.ids, pushes.registry, clock, token=stale.token, lease=LEASE)
    assert {i for i, outcome in outcomes.items() if outcome == "done"} == set(ids) - set(fresh.ids)
    await run_batch(db, fresh.ids, pushes.registry, clock, token=fresh.token, lease=LEASE)
    assert pushes.sent == Counter(ids)


async def test_jobs_without_a_token_run_a_timer_once_between_them(db: Database) -> None:
    """Jobs queued by a version before tokens (`fire_timer(id)`, `fire_timers(ids)`) take each
    timer by compare-and-swap: two of them, and a new job beside them, run it once."""
    clock, pushes = FrozenClock(T0), Pushes()
    ids = await _schedule(db, clock, 5)
    _stale, fresh = await _claimed_twice(db, clock, ids)
    await asyncio.gather(
        run_batch(db, ids, pushes.registry, clock, lease=LEASE),
        run_batch(db, ids, pushes.registry, clock, lease=LEASE),
        run_batch(db, fresh.ids, pushes.registry, clock, token=fresh.token, lease=LEASE),
        *(timers.run_timer(db, i, pushes.registry, clock, lease=LEASE) for i in ids),
    )
    assert pushes.sent == Counter(ids)
    assert await _statuses(db, ids) == {"done"}


async def test_a_stale_job_does_not_fire_a_timer_moved_to_a_later_time(db: Database) -> None:
    clock, pushes = FrozenClock(T0), Pushes()
    [timer_id] = await _schedule(db, clock, 1)
    claim = await claim_round(db, clock, lease=LEASE)
    async with db.transaction() as session:
        await timers.schedule(session, KIND, T0 + timedelta(hours=1), {}, key="push:0", clock=clock)
    for token in (claim.token, None):
        outcomes = await run_batch(db, [timer_id], pushes.registry, clock, token=token, lease=LEASE)
        assert outcomes == {timer_id: "skipped"}
    assert not pushes.sent
    assert await _statuses(db, [timer_id]) == {"pending"}


async def test_a_cancelled_batch_leaves_no_network_work_running(db: Database) -> None:
    """rq's job timeout (or a shutdown) cancels the batch: its I/O runs stop with it."""
    clock = FrozenClock(T0)
    registry = TimerRegistry()
    started, stopped = asyncio.Event(), asyncio.Event()
    finished: list[int] = []

    @registry.register_io(KIND)
    async def slow(database: Database, timer: Timer, clk: Clock) -> Fired | None:
        started.set()
        try:
            await asyncio.sleep(3600)  # a transcription that hangs
        except asyncio.CancelledError:
            stopped.set()
            raise
        finished.append(timer.id)
        return None

    ids = await _schedule(db, clock, 2)
    claim = await claim_round(db, clock, lease=LEASE)
    batch = asyncio.create_task(run_batch(db, claim.ids, registry, clock, token=claim.token, lease=LEASE))
    await asyncio.wait_for(started.wait(), 30)  # a bound on a hang, not a speed check
    batch.cancel()
    with pytest.raises(asyncio.CancelledError):
        await batch
    assert stopped.is_set(), "the batch returned while its I/O run was still going"
    running = [t for t in asyncio.all_tasks() if t.get_name().startswith("timer-")]
    assert not running, f"left running after the batch: {running}"
    assert not finished
    # Nothing was marked: the claims lapse and the timers run again.
    assert await _statuses(db, ids) == {"claimed"}
