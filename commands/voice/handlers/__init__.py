"""The voice feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Router, Voice
from commands.voice.commands import SEARCH
from commands.voice.handlers import search, voice


def router() -> Router:
    made = Router("voice")
    made.message(Voice())(voice.on_voice)
    made.message(SEARCH)(search.search)
    return made
