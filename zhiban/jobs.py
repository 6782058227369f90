"""rq job functions. They run in `zhiban worker` and reach Matrix only through the outbox."""

from __future__ import annotations

import functools

from records import outbox
from records.clock import SystemClock
from records.db import Database
from records.timers import TimerRegistry, run_timer
from zhiban.settings import Settings, load_settings
from zhiban.wakeup import OUTBOX, publish_sync


@functools.cache
def _runtime() -> tuple[Settings, Database, TimerRegistry]:
    from zhiban.app import build_timers

    settings = load_settings()
    # Each job runs in a fresh event loop; connections must not outlive it.
    return settings, Database(settings.database_url, pooled=False), build_timers()


async def fire_timer(timer_id: int) -> str:
    settings, db, registry = _runtime()
    result = await run_timer(db, timer_id, registry, SystemClock())
    outbox.wake_relay()
    if settings.redis.url:  # tell the bot its relay has messages to send
        publish_sync(settings.redis.url, settings.redis.queue, OUTBOX)
    return result
