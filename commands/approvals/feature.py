"""The approvals feature (公文审批): its router, texts, tables and timers."""

from __future__ import annotations

from commands.approvals import service
from commands.approvals.handlers import router
from commands.approvals.searcher import register_searcher
from commands.approvals.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.approvals.models"]

# `!search` finds approvals too, each for those its own rule admits.
register_searcher()


def register_timers(registry: TimerRegistry) -> None:
    registry.register(service.REMIND)(service.fire_reminder)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
