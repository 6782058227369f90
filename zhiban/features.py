"""The chat features Zhiban is made of, and what each one contributes.

Each feature module exposes:
  router            its chat handlers (a bot.Router)
  TEXTS             its bilingual texts
  MODEL_MODULES     modules whose tables the migrations must know (may be empty)
  register_timers   a function adding its timer handlers to a TimerRegistry
The order is the order in which routers are tried.
"""

from __future__ import annotations

import importlib
from types import ModuleType

FEATURES = [
    "commands.general.feature",
    "commands.push.feature",
    "commands.tasks.feature",
    "commands.approvals.feature",
    "commands.meetings.feature",
    "emergency.feature",
    "commands.voice.feature",
    "commands.audit.feature",
]


def load_features() -> list[ModuleType]:
    return [importlib.import_module(name) for name in FEATURES]
