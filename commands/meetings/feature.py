"""The meetings feature (会议通知): router, texts, tables and timers."""

from __future__ import annotations

from commands.meetings.handlers import router
from commands.meetings.searcher import register_searcher
from commands.meetings.texts import TEXTS
from commands.meetings.timers import register_timers
from commands.meetings.voice import file_to_minutes
from commands.plugin import Feature
from commands.voice.service import register_filer

# The voice feature files a transcript in a card's thread into the minutes; `!search` finds
# meetings. Both are joined when the feature loads (the plug-in has no field for them yet).
register_filer(file_to_minutes)
register_searcher()

FEATURE = Feature(
    name="meetings",
    router=router,
    texts=TEXTS,
    model_modules=("commands.meetings.models",),
    register_timers=register_timers,
)

__all__ = ["FEATURE"]
