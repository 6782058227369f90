"""rq job functions. They run in `zhiban worker` and reach Matrix only through the outbox."""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import timedelta

from prometheus_client import Histogram

from records import outbox
from records.clock import SystemClock
from records.config import Settings, load_settings
from records.db import Database
from records.timers import TimerRegistry, run_claimed
from zhiban.wakeup import OUTBOX, publish_sync

log = logging.getLogger(__name__)

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
    # Each job runs in a fresh event loop; connections must not outlive it.
    return _Runtime(settings, redis_url, Database(settings.database_url, pooled=False), build_timers(settings))


async def fire_timer(timer_id: int) -> str:
    with JOB_SECONDS.labels("fire_timer").time():
        return await _fire_timer(timer_id)


async def _fire_timer(timer_id: int) -> str:
    runtime = _runtime()
    # The claim is short and renewed while the job runs: a lost job is noticed in seconds,
    # a slow one (a transcription) is never handed to a second worker meanwhile.
    lease = timedelta(seconds=runtime.settings.worker.claim_lease_seconds)
    result = await run_claimed(runtime.db, timer_id, runtime.registry, SystemClock(), lease=lease)
    outbox.wake_relay()
    if runtime.redis_url:  # tell the bot its relay has messages to send
        publish_sync(runtime.redis_url, runtime.settings.redis.queue, OUTBOX)
    return result
