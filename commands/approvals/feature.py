"""The approvals feature (公文审批): its router, texts, tables and the step reminder timer."""

from __future__ import annotations

from commands.approvals import service
from commands.approvals.board import approvals_section
from commands.approvals.handlers import router
from commands.approvals.searcher import search_approvals
from commands.approvals.texts import TEXTS
from commands.plugin import Feature
from records.config import Settings
from records.timers import TimerRegistry


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    # The reminder reads the rules frozen on the approval's row (policy.py), not the settings:
    # a config change never alters what an approval under way was promised.
    registry.register(service.REMIND)(service.fire_reminder)


FEATURE = Feature(
    name="approvals",
    router=router,
    texts=TEXTS,
    model_modules=("commands.approvals.models",),
    register_timers=register_timers,
    # `!search` finds approvals too, each for those its own rule admits.
    searchers=(search_approvals,),
    # What waits on the viewer (and for leaders what is stuck) on the board.
    board_sections=(approvals_section,),
)

__all__ = ["FEATURE"]
