"""What waits: unsent outbox rows and overdue timers, read from the database every few seconds.

The figures are read by the process that would clear the backlog (the bot for the outbox, each
worker for the timers), so a scrape of a process that stopped shows the last value it saw
rather than nothing; Prometheus's `up` tells the two apart. Each read is one step down an index.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge
from sqlalchemy import func, select

from records.clock import Clock, as_utc
from records.db import Database
from records.models import OutboxMessage, Timer

log = logging.getLogger(__name__)

SAMPLE_SECONDS = 5.0

OUTBOX_BACKLOG = Gauge("zhiban_outbox_backlog", "Outbox rows not yet sent (nor given up)")
OUTBOX_OLDEST = Gauge("zhiban_outbox_oldest_unsent_seconds", "Age of the oldest outbox row not yet sent (0: none)")
TIMERS_OVERDUE = Gauge("zhiban_timers_overdue", "Timers past their due time and not yet claimed by a worker")
TIMERS_OLDEST = Gauge(
    "zhiban_timers_oldest_overdue_seconds", "How long the most overdue unclaimed timer is late (0: none)"
)


async def sample_outbox(db: Database, clock: Clock) -> None:
    async with db.reading() as session:
        count, first = (
            await session.execute(
                select(func.count(), func.min(OutboxMessage.id)).where(
                    OutboxMessage.sent_at.is_(None), OutboxMessage.failed.is_(False)
                )
            )
        ).one()
        created = (
            None
            if first is None
            else await session.scalar(select(OutboxMessage.created_at).where(OutboxMessage.id == first))
        )
    OUTBOX_BACKLOG.set(count)
    OUTBOX_OLDEST.set(0 if created is None else max(0.0, (clock.now() - as_utc(created)).total_seconds()))


async def sample_timers(db: Database, clock: Clock) -> None:
    now = clock.now()
    async with db.reading() as session:
        count, oldest = (
            await session.execute(
                select(func.count(), func.min(Timer.due_at)).where(Timer.status == "pending", Timer.due_at <= now)
            )
        ).one()
    TIMERS_OVERDUE.set(count)
    TIMERS_OLDEST.set(0 if oldest is None else max(0.0, (now - as_utc(oldest)).total_seconds()))


async def watch(sample: Callable[[], Awaitable[None]], every: float = SAMPLE_SECONDS) -> None:
    """Run `sample` every `every` seconds until cancelled; a failed read waits for the next."""
    while True:
        try:
            await sample()
        except Exception as exc:  # a busy or absent database: the figure stays as last read
            log.debug("backlog not sampled: %s", exc)
        await asyncio.sleep(every)
