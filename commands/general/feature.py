"""The general commands as a feature."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.general.handlers import router
from commands.general.texts import TEXTS
from records import ledger, timers
from records.clock import Clock
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry

MODEL_MODULES: list[str] = []


PRUNE_KIND = "records.prune_ledger"


def register_timers(registry: TimerRegistry) -> None:
    """Housekeeping: the event ledger is pruned once a day."""

    @registry.register(PRUNE_KIND)
    async def prune_ledger(session: AsyncSession, timer: Timer, clock: Clock) -> Fired:
        await ledger.prune(session, clock.now())
        return Fired(again_at=clock.now() + timedelta(days=1))


@router.startup()
async def plan_housekeeping(db: Database, clock: Clock) -> None:
    async with db.transaction() as session:
        existing = await session.scalar(select(Timer).where(Timer.key == PRUNE_KIND, Timer.status == "pending"))
        if existing is None:
            await timers.schedule(session, PRUNE_KIND, clock.now() + timedelta(hours=1), key=PRUNE_KIND, clock=clock)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
