"""The approvals feature (公文审批): its router, texts, tables and timers."""

from __future__ import annotations

from commands.approvals import service
from commands.approvals.handlers import router
from commands.approvals.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.approvals.models"]


def register_timers(registry: TimerRegistry) -> None:
    registry.register(service.REMIND)(service.fire_reminder)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
