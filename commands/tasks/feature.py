"""The tasks feature: supervised tasks (督办) and reminders — router, texts, tables, timers."""

from __future__ import annotations

from commands.tasks import reminders, service
from commands.tasks.handlers import router
from commands.tasks.searcher import register_searcher
from commands.tasks.texts import TEXTS
from commands.tasks.voice import RANK, file_to_task
from commands.voice.service import register_filer
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.tasks.models"]

# `!search` finds tasks too, each for those its own rule admits; a voice reply to a task card
# is a progress note.
register_searcher()
register_filer(file_to_task, rank=RANK)


def register_timers(registry: TimerRegistry) -> None:
    registry.register(reminders.FIRE)(reminders.fire)
    registry.register(reminders.NAG)(reminders.nag)
    registry.register(service.REMIND)(service.fire_reminder)
    registry.register(service.OVERDUE)(service.fire_overdue)
    registry.register(service.DIGEST)(service.fire_digest)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
