"""A burst (09:00 on Monday): the worker's job whose claim was full claims the next due
batches itself and runs them in its loop, each timer once, instead of sending each batch
round through the pump, Redis and rq. SQLite and PostgreSQL, a real Redis for the carrier."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator

import pytest
import redis
from rq import Queue
from sqlalchemy.ext.asyncio import AsyncSession

from records import timers
from records.clock import Clock, SystemClock
from records.config import Settings
from records.db import Database
from records.models import Timer
from records.timers import CLAIM_BATCH, Fired, TimerRegistry, claim_round
from zhiban import jobs
from zhiban.worker import RqCarrier

KIND = "test.burst"


@pytest.fixture
def queue(redis_url: str) -> Iterator[Queue]:
    connection = redis.Redis.from_url(redis_url)
    yield Queue(f"zhiban-test-{secrets.token_hex(4)}", connection=connection)
    connection.close()


def _counting(db: Database, monkeypatch: pytest.MonkeyPatch) -> Counter[int]:
    fired: Counter[int] = Counter()
    registry = TimerRegistry()

    @registry.register(KIND)
    async def count(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
        fired[timer.id] += 1
        return None

    monkeypatch.setattr(jobs, "_runtime", lambda: jobs._Runtime(Settings(), None, db, registry, None))
    monkeypatch.setattr(jobs, "DRAIN_SECONDS", 3600.0)  # the bound is not what is tested here
    return fired


async def _schedule(db: Database, count: int) -> list[int]:
    clock = SystemClock()
    async with db.transaction() as session:
        return [(await timers.schedule(session, KIND, clock.now(), {}, clock=clock)).id for _ in range(count)]


async def test_a_full_claims_job_runs_the_whole_burst_each_timer_once(
    db: Database, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    fired = _counting(db, monkeypatch)
    ids = await _schedule(db, CLAIM_BATCH * 2 + 30)
    claim = await claim_round(db, SystemClock())
    await RqCarrier(queue).send(claim)
    [job] = queue.jobs
    assert job.kwargs["burst"] is True, "a full claim was not marked as a burst"

    outcomes = await jobs._fire_timers(*job.args, **job.kwargs)

    assert fired == Counter(ids), "the job did not run the rest of the burst, or ran a timer twice"
    assert outcomes == dict.fromkeys(ids, "done")


async def test_a_job_of_a_partial_claim_runs_only_its_batch(
    db: Database, queue: Queue, monkeypatch: pytest.MonkeyPatch
) -> None:
    fired = _counting(db, monkeypatch)
    first = await _schedule(db, 30)
    claim = await claim_round(db, SystemClock())
    later = await _schedule(db, 5)  # due now, but for the pump's next round
    await RqCarrier(queue).send(claim)
    [job] = queue.jobs
    assert job.kwargs["burst"] is False

    await jobs._fire_timers(*job.args, **job.kwargs)

    assert fired == Counter(first)
    assert not set(fired) & set(later)
