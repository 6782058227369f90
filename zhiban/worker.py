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
from pathlib import Path

import redis
from rq import Queue
from rq.worker import SimpleWorker
from rq.worker_registration import WORKERS_BY_QUEUE_KEY

from notifications.delivery import close_kept_senders
from records.clock import Clock, SystemClock
from records.config import ConfigError, Settings
from records.db import Database
from records.migrate import upgrade
from records.timers import CLAIM_BATCH, Claim, TimerPump
from zhiban import backlog, jobs
from zhiban.wakeup import TIMERS, WakeBus

log = logging.getLogger(__name__)


# rq stops a job that runs longer than this. The job renews its timer's claim while it runs,
# so this is only the bound on a job that hangs, not on a slow one (transcriptions are capped
# well below it).
JOB_TIMEOUT_SECONDS = 900


class RqCarrier:
    """The pump's carrier in the worker: one rq job for each share of a claimed batch.

    The Redis calls run in a thread (`asyncio.to_thread`), never in the event loop that the
    pump shares with the jobs, and each is one pipelined round trip: `has_room` reads the
    queue's length and how many workers listen, `send` queues every share at once.
    """

    def __init__(self, queue: Queue, *, job_timeout: int = JOB_TIMEOUT_SECONDS, room_per_worker: int = 2) -> None:
        self.queue = queue
        self.job_timeout = job_timeout
        self.room_per_worker = room_per_worker
        self.workers = 1

    def _look(self) -> bool:
        with self.queue.connection.pipeline(transaction=False) as pipe:
            pipe.llen(self.queue.key)
            pipe.scard(WORKERS_BY_QUEUE_KEY % self.queue.name)
            waiting, workers = pipe.execute()
        self.workers = max(1, int(workers))
        return int(waiting) < self.room_per_worker * self.workers

    async def has_room(self) -> bool:
        """Fewer jobs wait than `room_per_worker` per worker: the queue stays short under a
        backlog, so claims do not lapse in it (and get claimed again) while their jobs wait."""
        return await asyncio.to_thread(self._look)

    def _enqueue(self, claim: Claim) -> None:
        # One job per worker listening, so that a burst (a large push fan-out's parts, a Monday
        # morning's reminders) is shared by every worker rather than run by one.
        ids = claim.ids
        size = -(-len(ids) // max(1, min(len(ids), self.workers)))
        jobs = [
            Queue.prepare_data(
                "zhiban.jobs.fire_timers",
                (ids[start : start + size],),
                # A full claim: more is due, the job claims on (zhiban.jobs._fire_timers).
                {"token": claim.token, "burst": len(ids) >= CLAIM_BATCH},
                timeout=self.job_timeout,
                result_ttl=600,
                failure_ttl=86400,
                # Unique per claim round: a batch claimed again gets a job of its own, and the
                # stale job, should it still run, finds nothing its token holds.
                job_id=f"zhiban-timers-{claim.token}-{n}",
            )
            for n, start in enumerate(range(0, len(ids), size))
        ]
        # Redis is only the carrier: if these jobs are lost, the claims lapse and are re-sent.
        with self.queue.connection.pipeline() as pipe:
            self.queue.enqueue_many(jobs, pipeline=pipe)
            pipe.execute()

    async def send(self, claim: Claim) -> None:
        await asyncio.to_thread(self._enqueue, claim)


def timer_pump(settings: Settings, db: Database, queue: Queue, clock: Clock | None = None) -> TimerPump:
    """The worker's pump: claims batches for `claim_lease_seconds`, which the running jobs renew."""
    carrier = RqCarrier(queue)
    return TimerPump(
        db,
        clock or SystemClock(),
        batch_transport=carrier.send,
        has_room=carrier.has_room,
        interval=settings.worker.pump_interval_seconds,
        lease=timedelta(seconds=settings.worker.claim_lease_seconds),
    )


def _run_pump(settings: Settings, redis_url: str, queue: Queue, stop: threading.Event) -> None:
    """The pump, in the process's one loop (jobs.worker_loop) beside the jobs it feeds."""

    async def main() -> None:
        db = jobs.runtime_db()
        pump = timer_pump(settings, db, queue)
        jobs.after_batch(pump.wake)  # a job of this process has made room in the queue
        task = asyncio.create_task(pump.run())
        # The overdue-timer figures for Prometheus (zhiban.backlog), read where they are cleared.
        sampler = asyncio.create_task(backlog.watch(lambda: backlog.sample_timers(db, SystemClock())))
        # The bot says when it scheduled something, so a transcription starts at once.
        listener = asyncio.create_task(WakeBus(redis_url, settings.redis.queue).listen({TIMERS: pump.wake}))
        await asyncio.to_thread(stop.wait)
        pump.stop()
        listener.cancel()
        sampler.cancel()
        await task
        await close_kept_senders()

    jobs.worker_loop().run(main())


def _preload_voice(settings: Settings) -> None:
    try:
        from commands.voice.jobs import options_from_payload
        from voice.pipeline import warm_up

        warm_up(options_from_payload({"options": {"model_dir": settings.voice.model_dir}}))
    except Exception as exc:  # the voice extra may be absent; jobs will say so
        log.warning("speech model not preloaded: %s", exc)


def run_worker(settings: Settings, redis_url: str | None, *, config_file: Path | None = None) -> None:
    """Run the pump and the jobs with `settings`, read from `config_file` (the file named
    with --config, $ZHIBAN_CONFIG or ./zhiban.toml)."""
    if not redis_url:
        raise ConfigError(
            "the worker needs Redis: set redis.url in the config (or ZHIBAN_REDIS__URL), "
            "or start one on localhost:6379. `zhiban up` starts an embedded one for you."
        )
    upgrade(settings.database_url)
    # The jobs run in this process with the settings the worker was started with.
    jobs.use_settings(settings, redis_url)
    # Whatever else reads the config in this process (the push feature's sender) must find the
    # same file, wherever the worker was started from, and reach the same Redis.
    if config_file is not None:
        os.environ["ZHIBAN_CONFIG"] = str(config_file.resolve())
    os.environ.setdefault("ZHIBAN_REDIS__URL", redis_url)
    # After the environment above: the features' handlers, once loaded, find the same config.
    jobs.prepare()
    # The one loop is made here, before the pump thread and the first job can race to make two
    # (functools.cache does not lock).
    jobs.worker_loop()
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
