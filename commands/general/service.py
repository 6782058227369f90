"""Housekeeping of the general feature: the event ledger and the board's idempotency keys are
pruned once a day."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from records import board_actions, ledger, timers
from records.clock import Clock
from records.config import Settings
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry

PRUNE_KIND = "records.prune_ledger"


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    registry.register(PRUNE_KIND)(prune_ledger)


async def prune_ledger(session: AsyncSession, timer: Timer, clock: Clock) -> Fired:
    await ledger.prune(session, clock.now())
    await board_actions.prune(session, clock.now())
    return Fired(again_at=clock.now() + timedelta(days=1))


async def plan_housekeeping(db: Database, clock: Clock) -> None:
    """At bot start: the daily prune is planned once (an hour from now), never twice."""
    async with db.transaction() as session:
        existing = await session.scalar(select(Timer).where(Timer.key == PRUNE_KIND, Timer.status == "pending"))
        if existing is None:
            await timers.schedule(session, PRUNE_KIND, clock.now() + timedelta(hours=1), key=PRUNE_KIND, clock=clock)
