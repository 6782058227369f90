"""The meetings feature (会议通知): router, texts, tables and timers."""

from __future__ import annotations

from commands.meetings.board import meetings_section
from commands.meetings.handlers import router
from commands.meetings.searcher import search_meetings
from commands.meetings.texts import TEXTS
from commands.meetings.timers import register_timers
from commands.meetings.voice import file_to_minutes
from commands.plugin import Feature, VoiceFiler

FEATURE = Feature(
    name="meetings",
    router=router,
    texts=TEXTS,
    model_modules=("commands.meetings.models",),
    register_timers=register_timers,
    # A transcript said in a meeting card's thread joins the minutes.
    voice_filers=(VoiceFiler(file_to_minutes),),
    # `!search` finds meetings too, each for those its own rule admits.
    searchers=(search_meetings,),
    # Today's and tomorrow's meetings on the board.
    board_sections=(meetings_section,),
)

__all__ = ["FEATURE"]
