"""The board feature (一屏知全局): `!全局`, `!待办`, the widget, and the morning briefing."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from commands.board import briefing
from commands.board.handlers import router
from commands.board.texts import TEXTS
from commands.board_section import BoardSection, DutyLeader
from commands.plugin import Feature
from records.config import Settings
from records.timers import TimerRegistry


def board_feature(sections: Sequence[BoardSection], duty_leader: DutyLeader) -> Feature:
    """The board over ``sections`` (every feature's, handed in by the wiring: the board imports
    no feature); ``duty_leader`` (the roster's) names who gets the briefing besides the leaders."""

    def register_timers(registry: TimerRegistry, settings: Settings) -> None:
        briefing.register(registry, settings, tuple(sections), duty_leader)

    return Feature(
        name="board",
        router=partial(router, tuple(sections)),
        texts=TEXTS,
        register_timers=register_timers,
    )


__all__ = ["board_feature"]
