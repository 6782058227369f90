"""The chat adapter of the feature: reminders and supervised tasks, under one router."""

from __future__ import annotations

from typing import Any

from bot import Router
from commands.tasks.handlers_reminders import router as reminders_router
from commands.tasks.handlers_tasks import router as tasks_router
from commands.tasks.policy import policy_from_settings, save_policy
from commands.tasks.service import ensure_digest
from records.clock import Clock
from records.db import Database

router = Router("tasks")
router.include_router(reminders_router)
router.include_router(tasks_router)


@router.startup()
async def store_policy(settings: Any, db: Database, clock: Clock) -> None:
    """Put the configured timings where timers and other features' services can read them."""
    async with db.transaction() as session:
        policy = policy_from_settings(settings)
        await save_policy(session, policy)
        await ensure_digest(session, policy, clock, reset=True)
