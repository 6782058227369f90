"""`zhiban worker`: an rq worker for jobs, and the timer pump that feeds it.

Any number of workers may run on any machines; on PostgreSQL each due timer is claimed by
exactly one pump (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from datetime import timedelta

import redis
from rq import Queue
from rq.worker import SimpleWorker

from records.clock import SystemClock
from records.db import Database
from records.migrate import upgrade
from records.timers import TimerPump
from zhiban.settings import ConfigError, Settings
from zhiban.wakeup import TIMERS, WakeBus

log = logging.getLogger(__name__)


def rq_transport(queue: Queue, *, job_timeout: int = 300):  # type: ignore[no-untyped-def]
    async def enqueue(timer_id: int) -> None:
        # Redis is only the carrier: if this job is lost, the claim lapses and it is re-sent.
        # The job may not outlive the claim, or a second worker could run it meanwhile.
        queue.enqueue("zhiban.jobs.fire_timer", timer_id, job_timeout=job_timeout, result_ttl=600, failure_ttl=86400)

    return enqueue


def _run_pump(settings: Settings, redis_url: str, queue: Queue, stop: threading.Event) -> None:
    async def main() -> None:
        db = Database(settings.database_url)
        pump = TimerPump(
            db,
            SystemClock(),
            rq_transport(queue, job_timeout=int(settings.worker.claim_lease_seconds)),
            interval=settings.worker.pump_interval_seconds,
            lease=timedelta(seconds=settings.worker.claim_lease_seconds),
        )
        task = asyncio.create_task(pump.run())
        # The bot says when it scheduled something, so a transcription starts at once.
        listener = asyncio.create_task(WakeBus(redis_url, settings.redis.queue).listen({TIMERS: pump.wake}))
        await asyncio.to_thread(stop.wait)
        pump.stop()
        listener.cancel()
        await task
        await db.dispose()

    asyncio.run(main())


def _preload_voice(settings: Settings) -> None:
    try:
        from voice.jobs import options_from_payload
        from voice.pipeline import warm_up

        warm_up(options_from_payload({"options": {"model_dir": settings.voice.model_dir}}))
    except Exception as exc:  # the voice extra may be absent; jobs will say so
        log.warning("speech model not preloaded: %s", exc)


def run_worker(settings: Settings, redis_url: str | None) -> None:
    if not redis_url:
        raise ConfigError(
            "the worker needs Redis: set redis.url in the config (or ZHIBAN_REDIS__URL), "
            "or start one on localhost:6379. `zhiban up` starts an embedded one for you."
        )
    upgrade(settings.database_url)
    # Jobs read the settings again in this process; they must reach the same Redis.
    os.environ.setdefault("ZHIBAN_REDIS__URL", redis_url)
    connection = redis.Redis.from_url(redis_url)
    queue = Queue(settings.redis.queue, connection=connection)
    stop = threading.Event()
    pump = threading.Thread(target=_run_pump, args=(settings, redis_url, queue, stop), name="timer-pump", daemon=True)
    pump.start()
    if settings.voice.enabled:
        # Load the speech model and the correction tables now, not on the first voice message (~10 s).
        threading.Thread(target=_preload_voice, args=(settings,), name="voice-preload", daemon=True).start()
    try:
        worker = SimpleWorker([queue], connection=connection)
        worker.work(with_scheduler=False)
    finally:
        stop.set()
        pump.join(timeout=5)
