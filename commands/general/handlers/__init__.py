"""The general feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Router
from commands.general import service
from commands.general.commands import LANG, PING, TZ, WHOAMI
from commands.general.handlers import profile


def router() -> Router:
    made = Router("general")
    made.message(PING)(profile.ping)
    made.message(LANG)(profile.set_lang)
    made.message(TZ)(profile.set_tz)
    made.message(WHOAMI)(profile.whoami)
    made.member()(profile.joined)
    made.startup()(service.plan_housekeeping)
    return made
