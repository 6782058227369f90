"""The general commands as a feature."""

from __future__ import annotations

from commands.general.handlers import router
from commands.general.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = []


def register_timers(registry: TimerRegistry) -> None:
    """The general commands schedule nothing."""


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
