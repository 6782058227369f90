"""The tasks feature: supervised tasks (督办) and reminders — router, texts, tables, timers."""

from __future__ import annotations

from commands.tasks import reminders, service
from commands.tasks.handlers import router
from commands.tasks.searcher import register_searcher
from commands.tasks.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.tasks.models"]

# `!search` finds tasks too, each for those its own rule admits.
register_searcher()


def register_timers(registry: TimerRegistry) -> None:
    registry.register(reminders.FIRE)(reminders.fire)
    registry.register(reminders.NAG)(reminders.nag)
    registry.register(service.REMIND)(service.fire_reminder)
    registry.register(service.OVERDUE)(service.fire_overdue)
    registry.register(service.DIGEST)(service.fire_digest)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
