"""The audit feature: the daily checkpoint of the audit trail (no chat commands)."""

from __future__ import annotations

from typing import Any

from bot import Router
from commands.audit import service
from commands.audit.texts import TEXTS
from records.clock import Clock
from records.db import Database
from records.timers import TimerRegistry

router = Router("audit")
MODEL_MODULES: list[str] = []


def register_timers(registry: TimerRegistry) -> None:
    # An I/O handler: it verifies the whole trail first, which must not hold a write lock.
    registry.register_io(service.KIND)(service.fire)


@router.startup()
async def plan_checkpoints(settings: Any, db: Database, clock: Clock) -> None:
    async with db.transaction() as session:
        await service.plan(session, clock, every_hours=settings.audit.checkpoint_every_hours)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
