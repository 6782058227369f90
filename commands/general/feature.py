"""The general commands as a feature: everyday commands and the ledger's housekeeping."""

from __future__ import annotations

from commands.general.handlers import router
from commands.general.service import PRUNE_KIND, register_timers
from commands.general.texts import TEXTS
from commands.plugin import Feature

FEATURE = Feature(name="general", router=router, texts=TEXTS, register_timers=register_timers)

__all__ = ["FEATURE", "PRUNE_KIND"]
