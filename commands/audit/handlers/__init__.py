"""The audit feature's bot side: no chat commands, only the checkpoint plan at bot start."""

from __future__ import annotations

from bot import Router
from commands.audit import service
from records.clock import Clock
from records.config import Settings
from records.db import Database


async def plan_checkpoints(settings: Settings, db: Database, clock: Clock) -> None:
    async with db.transaction() as session:
        await service.plan(session, clock, every_hours=settings.audit.checkpoint_every_hours)


def router() -> Router:
    made = Router("audit")
    made.startup()(plan_checkpoints)
    return made
