"""The audit feature: the daily checkpoint of the audit trail (no chat commands)."""

from __future__ import annotations

from commands.audit import service
from commands.audit.handlers import router
from commands.audit.texts import TEXTS
from commands.plugin import Feature
from records.config import Settings
from records.timers import TimerRegistry


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    # An I/O handler: it verifies the whole trail first, which must not hold a write lock.
    registry.register_io(service.KIND)(service.fire)


FEATURE = Feature(name="audit", router=router, texts=TEXTS, register_timers=register_timers)

__all__ = ["FEATURE"]
