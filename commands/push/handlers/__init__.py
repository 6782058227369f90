"""The push feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Router
from commands.push.commands import PUSH, QUIET
from commands.push.handlers import push, quiet


def router() -> Router:
    made = Router("push")
    made.message(PUSH)(push.push)
    made.message(QUIET)(quiet.quiet)
    return made
