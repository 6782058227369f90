"""The security feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Router
from commands.security.commands import SECURITY
from commands.security.handlers import security


def router() -> Router:
    made = Router("security")
    made.message(SECURITY)(security.security)
    return made
