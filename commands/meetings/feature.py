"""The meetings feature (会议通知): router, texts, tables and timers."""

from __future__ import annotations

from commands.meetings import scheduled, service
from commands.meetings.handlers import router
from commands.meetings.searcher import register_searcher
from commands.meetings.texts import TEXTS
from commands.meetings.voice import file_to_minutes
from commands.voice.service import register_filer
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.meetings.models"]

register_filer(file_to_minutes)
register_searcher()


def register_timers(registry: TimerRegistry) -> None:
    registry.register(service.REMIND)(scheduled.fire_reminder)
    registry.register(service.CHECKIN)(scheduled.fire_checkin)
    registry.register(service.MISSING)(scheduled.fire_missing)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
