"""The tasks feature: supervised tasks (督办) and reminders — router, texts, tables, timers."""

from __future__ import annotations

from commands.plugin import Feature, MakeTask, VoiceFiler
from commands.tasks import hooks
from commands.tasks.board import tasks_section
from commands.tasks.handlers import router
from commands.tasks.searcher import search_tasks
from commands.tasks.texts import TEXTS
from commands.tasks.timers import register_timers
from commands.tasks.voice import RANK, amend_progress, file_to_task

FEATURE = Feature(
    name="tasks",
    router=router,
    texts=TEXTS,
    model_modules=("commands.tasks.models",),
    register_timers=register_timers,
    # A voice reply to a task card is a progress note.
    voice_filers=(VoiceFiler(file_to_task, rank=RANK, amend=amend_progress),),
    # `!search` finds tasks too, each for those its own rule admits.
    searchers=(search_tasks,),
    # Overdue and at-risk tasks on the board.
    board_sections=(tasks_section,),
)

# Handed by the wiring to the features whose records become tasks (a meeting's action items).
make_task: MakeTask = hooks.make_task

__all__ = ["FEATURE", "make_task"]
