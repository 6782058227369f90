"""The security feature: `!安全` / `!security` (the step-up authenticators of records.stepup)."""

from __future__ import annotations

from commands.plugin import Feature
from commands.security.handlers import router
from commands.security.texts import TEXTS

FEATURE = Feature(name="security", router=router, texts=TEXTS)

__all__ = ["FEATURE"]
