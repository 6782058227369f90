"""The chat side of the feature: reminders and supervised tasks, under one router made fresh
for each dispatcher."""

from __future__ import annotations

from bot import Reaction, Router
from commands.tasks.commands import (
    ACCEPT,
    ALARM,
    APPROVE_EXT,
    CANCEL,
    DONE,
    EXTEND,
    PROGRESS,
    REFUSE_EXT,
    REMIND,
    REMINDERS,
    SENDBACK,
    TASK,
    TASKS,
)
from commands.tasks.handlers import reminders, tasks
from commands.tasks.policy import policy_from_settings, save_policy
from commands.tasks.timers import ensure_digest
from records.clock import Clock
from records.config import Settings
from records.db import Database


async def store_policy(settings: Settings, db: Database, clock: Clock) -> None:
    """Put the configured timings where timers and other features' services can read them."""
    async with db.transaction() as session:
        policy = policy_from_settings(settings)
        await save_policy(session, policy)
        await ensure_digest(session, policy, clock, reset=True)


def router() -> Router:
    made = Router("tasks")
    # Reminders first, as they always were tried: `!cancel R12` is theirs.
    made.message(REMIND)(reminders.remind)
    made.message(ALARM)(reminders.alarm)
    made.message(REMINDERS)(reminders.list_reminders)
    made.message(CANCEL, reminders.cancel_is_ours)(reminders.cancel)
    made.reaction(Reaction("❌"), reminders.on_reminder)(reminders.cancel_by_reaction)
    made.reaction(Reaction("👍"), reminders.on_reminder)(reminders.subscribe_by_reaction)
    made.reaction(Reaction("✅"), reminders.on_reminder)(reminders.acknowledge_by_reaction)
    made.message(TASK)(tasks.task)
    made.message(PROGRESS, tasks.task_id_first)(tasks.progress)
    made.message(DONE, tasks.task_id_first)(tasks.done)
    made.message(ACCEPT, tasks.task_id_first)(tasks.accept)
    made.message(SENDBACK, tasks.task_id_first)(tasks.sendback)
    made.message(EXTEND, tasks.task_id_first)(tasks.extend)
    made.message(APPROVE_EXT, tasks.task_id_first)(tasks.approve_ext)
    made.message(REFUSE_EXT, tasks.task_id_first)(tasks.refuse_ext)
    made.reaction(Reaction("✅", "❌"), tasks.on_task_notice)(tasks.decide_by_reaction)
    made.message(TASKS)(tasks.list_tasks)
    made.startup()(store_policy)
    return made
