"""The voice feature: its router, texts, tables and timers (filled in by the feature's own work)."""

from __future__ import annotations

from bot import Router
from records.timers import TimerRegistry

router = Router("voice")
TEXTS: dict[str, dict[str, str]] = {}
MODEL_MODULES: list[str] = []


def register_timers(registry: TimerRegistry) -> None:
    """Nothing scheduled yet."""
