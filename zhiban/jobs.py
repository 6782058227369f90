"""rq job functions. They run in `zhiban worker` and reach Matrix only through the outbox."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from prometheus_client import Histogram

from records import outbox, timer_metrics
from records.clock import SystemClock
from records.config import Settings, load_settings
from records.db import Database
from records.timers import CLAIM_BATCH, TimerRegistry, claim_round, run_batch
from zhiban import board_change
from zhiban.wakeup import BOARD, OUTBOX, WakeBus

log = logging.getLogger(__name__)

T = TypeVar("T")

# The whole job as rq runs it: the timer's run (records.timer_metrics) plus the wake-ups after it.
JOB_SECONDS = Histogram(
    "zhiban_job_seconds",
    "How long a worker's job took, by job",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900),
)


@dataclass(frozen=True)
class _Runtime:
    settings: Settings
    redis_url: str | None
    db: Database
    registry: TimerRegistry
    wake_bus: WakeBus | None


class WorkerLoop:
    """The process's one event loop, in a thread of its own, kept for the process's lifetime.

    rq runs a job in the worker's main thread; the job hands its coroutine to this loop and
    waits. The pooled engine, the Redis client and the push senders live in this loop, so a job
    no longer pays for a new loop, new database connections and a new Redis connection (19.8 ms
    of a timer's 20 on SQLite). Nothing is kept that the database does not also hold: a killed
    process loses only claims, which lapse and are handed out again.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="zhiban-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[object, object, T]) -> T:
        """Run `coro` in the loop and wait for its result (from any other thread)."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result()
        except BaseException:
            # rq's job timeout (an exception raised in the waiting thread): stop the run too.
            future.cancel()
            raise


@functools.cache
def worker_loop() -> WorkerLoop:
    return WorkerLoop()


# What the worker was started with. Jobs used to read the config again on their own, from
# $ZHIBAN_CONFIG or ./zhiban.toml: a worker started with `--config FILE` elsewhere then ran
# every job against the defaults (an empty database) and no timer ever fired.
_worker_settings: tuple[Settings, str | None] | None = None


def use_settings(settings: Settings, redis_url: str | None) -> None:
    """The settings (and the Redis the worker resolved) that this process's jobs run with."""
    global _worker_settings
    _worker_settings = (settings, redis_url)
    _runtime.cache_clear()


def prepare() -> None:
    """Import every feature's timer handlers now, before the first job.

    Done lazily, the imports (~4 s) ran inside the first job after a worker started, and that
    timer ran as much late (zhiban_timer_lateness_seconds showed it).
    """
    _runtime()
    log.info("jobs ready: every feature's timer handlers are loaded")


@functools.cache
def _runtime() -> _Runtime:
    from zhiban.app import build_timers

    if _worker_settings is not None:
        settings, redis_url = _worker_settings
    else:  # a job run outside `zhiban worker` (a bare rq worker): the config it can find
        settings = load_settings()
        redis_url = settings.redis.url or None
    # Pooled: every job runs in the one loop of worker_loop(), which the connections belong to.
    wake_bus = WakeBus(redis_url, settings.redis.queue) if redis_url else None
    db = Database(settings.database_url, pool=settings.database)
    return _Runtime(settings, redis_url, db, build_timers(settings), wake_bus)


def runtime_db() -> Database:
    """The process's pooled database (for the pump, which runs in the same loop as the jobs)."""
    return _runtime().db


# A job whose claim was full (a burst) claims and runs the next due batches itself, this long.
DRAIN_SECONDS = 2.0

# Called in the worker's loop after each batch: the process's pump, which stops claiming while
# the queue is full, claims again as soon as a job of its own has made room.
_after_batch: list[Callable[[], None]] = []


def after_batch(callback: Callable[[], None]) -> None:
    """Call `callback` (in the worker's loop) each time a batch of timers has run."""
    _after_batch.append(callback)


def fire_timers(timer_ids: list[int], token: str | None = None, burst: bool = False) -> dict[int, str]:
    """The pump's batch job: run the timers its claim's `token` still holds, in the worker's
    loop (records.timers.run_batch).

    A job queued by an older version carries no token: it takes each timer as it stands
    (claimed, or pending and due) by compare-and-swap on the timer's token, so it too runs
    nothing that another job runs; at worst it runs a timer before the job that claimed it.
    `burst`: the pump's claim was full, more is due; the job goes on claiming (`_fire_timers`).
    """
    with JOB_SECONDS.labels("fire_timers").time():
        return worker_loop().run(_fire_timers(timer_ids, token, burst=burst))


def fire_timer(timer_id: int) -> str:
    """One timer by id (a job queued by a version before batches, or by hand), as above."""
    with JOB_SECONDS.labels("fire_timer").time():
        return worker_loop().run(_fire_timers([timer_id], None)).get(timer_id, "skipped")


async def _fire_timers(timer_ids: list[int], token: str | None, *, burst: bool = False) -> dict[int, str]:
    runtime = _runtime()
    clock = SystemClock()
    # The claims are short and renewed while the job runs: a lost job is noticed in seconds,
    # a slow one (a transcription) is never handed to a second worker meanwhile.
    lease = timedelta(seconds=runtime.settings.worker.claim_lease_seconds)
    result = await _run_claimed(runtime, timer_ids, token, clock, lease)
    if token is None or not burst:
        return result
    # A burst (09:00 on Monday): claim the next due batch here and run it in this loop, rather
    # than wait for it to go round through the pump, Redis and rq, which cost most of a burst's
    # lateness. Bounded, so that the worker soon takes its queued jobs again; on PostgreSQL
    # every worker drains side by side (SKIP LOCKED).
    until = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < until:
        claim = await claim_round(runtime.db, clock, lease=lease)
        timer_metrics.CLAIMED.inc(len(claim.ids))
        if claim.ids:
            result.update(await _run_claimed(runtime, claim.ids, claim.token, clock, lease))
        if len(claim.ids) < CLAIM_BATCH:
            break  # the backlog is drained
    return result


async def _run_claimed(
    runtime: _Runtime, timer_ids: list[int], token: str | None, clock: SystemClock, lease: timedelta
) -> dict[int, str]:
    with board_change.collecting() as written:
        result = await run_batch(runtime.db, timer_ids, runtime.registry, clock, token=token, lease=lease)
    for callback in _after_batch:
        callback()
    outbox.wake_relay()
    if runtime.wake_bus is not None:
        # The bot's relay has messages to send; the boards read again only what the batch's
        # commits changed, named as a turn names it (zhiban.middlewares), not every board whole.
        await runtime.wake_bus.publish(OUTBOX, board_change.NAMED_APART)
        change = written.named()
        if change is not None:
            await runtime.wake_bus.publish(BOARD, change)
    return result
