"""The board's chat side: one router, made fresh for each dispatcher, over the sections the
wiring collected from every feature."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from bot import Router
from commands.board import briefing
from commands.board.commands import BOARD, TODAY
from commands.board.handlers import board
from commands.board_section import BoardSection
from records.clock import Clock
from records.config import Settings
from records.db import Database


async def arm_briefing(settings: Settings, db: Database, clock: Clock) -> None:
    """At start-up: plan the next morning briefing with the time configured now."""
    async with db.transaction() as session:
        await briefing.arm(session, settings, clock)


def router(sections: Sequence[BoardSection]) -> Router:
    made = Router("board")
    made.startup()(arm_briefing)
    made.message(BOARD)(partial(board.whole_picture, sections=tuple(sections)))
    made.message(TODAY)(partial(board.waiting_for_me, sections=tuple(sections)))
    return made
