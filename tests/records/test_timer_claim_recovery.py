"""A timer whose job is lost runs again within seconds; a slow job that is running is never
handed out twice (the claim is short, and the running job renews it)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue

from records import timers
from records.clock import FrozenClock, as_utc
from records.config import Settings
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry, claim_due, claim_round, run_batch
from zhiban.worker import timer_pump

T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
# What a grade I order allows for its acknowledgement: a lost job must cost far less.
ACK_WINDOW = timedelta(minutes=5)


@pytest.fixture
def queue(redis_url: str) -> Iterator[Queue]:
    connection = redis.Redis.from_url(redis_url)
    yield Queue(f"zhiban-test-{secrets.token_hex(4)}", connection=connection)
    connection.close()


async def _schedule(db: Database, clock: FrozenClock, kind: str = "test.nag") -> int:
    async with db.transaction() as session:
        return (await timers.schedule(session, kind, clock.now(), {}, clock=clock)).id


async def _status(db: Database, timer_id: int) -> str:
    async with db.reading() as session:
        timer = await session.get(Timer, timer_id)
        assert timer is not None
        return timer.status


async def test_a_timer_whose_job_was_flushed_is_queued_again_within_seconds(db: Database, queue: Queue) -> None:
    settings = Settings()  # the worker's defaults
    clock = FrozenClock(T0)
    timer_id = await _schedule(db, clock)
    pump = timer_pump(settings, db, queue, clock)
    assert await pump.pump_once() == 1
    assert queue.count == 1
    queue.connection.flushdb()  # Redis restarted empty, or the worker died with the job
    assert queue.count == 0

    lease = timedelta(seconds=settings.worker.claim_lease_seconds)
    clock.advance(lease / 2)
    assert await pump.pump_once() == 0  # not yet: another worker may be about to start it
    clock.advance(lease / 2 + timedelta(seconds=1))
    assert await pump.pump_once() == 1, "the lost job was not noticed after the short lease"
    assert queue.count == 1 and queue.jobs[0].args == ([timer_id],)
    assert lease + timedelta(seconds=1) < timedelta(seconds=15) < ACK_WINDOW


async def test_a_job_that_waited_past_its_lease_fires_nothing_the_new_claim_fires(db: Database, queue: Queue) -> None:
    """With a short lease, a claim may lapse while the job waits behind slow ones; the timer is
    claimed again into a second job, and whichever runs, it fires once."""
    settings = Settings()
    clock = FrozenClock(T0)
    pushes: list[int] = []
    registry = TimerRegistry()

    @registry.register_io("test.push")
    async def push(database: Database, timer: Timer, clk: object) -> Fired | None:
        pushes.append(timer.id)
        return None

    timer_id = await _schedule(db, clock, "test.push")
    pump = timer_pump(settings, db, queue, clock)
    assert await pump.pump_once() == 1
    clock.advance(timedelta(seconds=settings.worker.claim_lease_seconds + 1))
    assert await pump.pump_once() == 1  # claimed again (its job might have been lost)
    stale, fresh = queue.jobs
    assert stale.args == fresh.args == ([timer_id],) and stale.kwargs != fresh.kwargs
    for job in (fresh, stale):  # as the worker runs them (zhiban.jobs.fire_timers)
        await run_batch(db, *job.args, registry, clock, token=job.kwargs["token"])
    assert pushes == [timer_id]
    assert await _status(db, timer_id) == "done"


async def test_a_backlog_keeps_the_queue_short(db: Database, queue: Queue) -> None:
    """While jobs wait (every worker busy), the pump claims no more: the timers wait in the
    database, and claims do not lapse in the queue to be claimed again into ever more jobs."""
    settings = Settings()
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        for _ in range(timers.CLAIM_BATCH * 5):
            await timers.schedule(session, "test.nag", clock.now(), {}, clock=clock)
    pump = timer_pump(settings, db, queue, clock)
    for _ in range(5):
        await pump.pump_once()
    for _ in range(4):  # the jobs wait through leases
        clock.advance(timedelta(seconds=settings.worker.claim_lease_seconds + 1))
        assert await pump.pump_once() == 0
    assert queue.count == 2  # room for two per worker listening (none here counts as one)
    queue.connection.delete(queue.key)  # a worker took them
    assert await pump.pump_once() == timers.CLAIM_BATCH


async def test_a_long_running_job_renews_its_claim_and_is_not_claimed_again(db: Database) -> None:
    clock = FrozenClock(T0)
    lease = timedelta(seconds=8)
    registry = TimerRegistry()
    started, finish = asyncio.Event(), asyncio.Event()
    runs: list[int] = []

    @registry.register_io("test.transcribe")
    async def transcribe(database: Database, timer: Timer, clk: object) -> Fired | None:
        runs.append(timer.id)
        started.set()
        await finish.wait()  # a transcription that takes a while
        return None

    timer_id = await _schedule(db, clock, "test.transcribe")
    claim = await claim_round(db, clock, lease=lease)
    assert claim.ids == [timer_id]
    job = asyncio.create_task(
        run_batch(db, claim.ids, registry, clock, token=claim.token, lease=lease, heartbeat_seconds=0.01)
    )
    await asyncio.wait_for(started.wait(), 30)  # a bound on a hang, not a speed check
    for _ in range(6):  # three leases go by while it runs
        clock.advance(lease / 2)
        await _renewed(db, timer_id, clock)
        assert await claim_due(db, clock, lease=lease) == [], "a running job was handed out again"
    finish.set()
    assert await asyncio.wait_for(job, 30) == {timer_id: "done"}
    assert runs == [timer_id]
    assert await _status(db, timer_id) == "done"
    clock.advance(lease * 2)
    assert await claim_due(db, clock, lease=lease) == []


async def test_without_its_job_the_claim_lapses_after_the_lease(db: Database) -> None:
    """The heartbeat is what holds the claim: a killed worker stops renewing it."""
    clock = FrozenClock(T0)
    lease = timedelta(seconds=8)
    timer_id = await _schedule(db, clock)
    claim = await claim_round(db, clock, lease=lease)
    run = asyncio.create_task(run_batch(db, claim.ids, _hanging(), clock, token=claim.token, lease=lease))
    await _renewed(db, timer_id, clock)
    run.cancel()  # the worker is killed: nothing renews the claim any more
    await asyncio.gather(run, return_exceptions=True)
    clock.advance(lease + timedelta(seconds=1))
    assert await claim_due(db, clock, lease=lease) == [timer_id]


async def _renewed(db: Database, timer_id: int, clock: FrozenClock) -> None:
    """Wait until the heartbeat has moved the claim past the (frozen) now."""
    for _ in range(3000):
        async with db.reading() as session:
            timer = await session.get(Timer, timer_id)
            assert timer is not None and timer.claimed_until is not None
            if as_utc(timer.claimed_until) > clock.now():
                return
        await asyncio.sleep(0.01)
    raise AssertionError("the running job never renewed its claim")


def _hanging() -> TimerRegistry:
    registry = TimerRegistry()

    @registry.register_io("test.nag")
    async def hang(database: Database, timer: Timer, clk: object) -> Fired | None:
        await asyncio.Event().wait()
        return None

    return registry
