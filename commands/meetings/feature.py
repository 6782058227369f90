"""The meetings feature (会议通知): router, texts, tables and timers."""

from __future__ import annotations

from functools import partial

from commands.meetings.board import meetings_section
from commands.meetings.handlers import router
from commands.meetings.searcher import search_meetings
from commands.meetings.texts import TEXTS
from commands.meetings.timers import register_timers
from commands.meetings.voice import amend_minutes, file_to_minutes, may_file_minutes
from commands.plugin import Feature, MakeTask, VoiceFiler


def meetings_feature(make_task: MakeTask) -> Feature:
    """The meetings feature; its action items become supervised tasks through ``make_task``
    (the tasks feature's hook, handed in by the wiring: meetings imports nothing of tasks)."""
    return Feature(
        name="meetings",
        router=partial(router, make_task),
        texts=TEXTS,
        model_modules=("commands.meetings.models",),
        register_timers=register_timers,
        # A transcript said in a meeting card's thread joins the minutes.
        voice_filers=(VoiceFiler(file_to_minutes, amend=amend_minutes, may_file=may_file_minutes),),
        # `!search` finds meetings too, each for those its own rule admits.
        searchers=(search_meetings,),
        # Today's and tomorrow's meetings on the board.
        board_sections=(meetings_section,),
    )


__all__ = ["meetings_feature"]
