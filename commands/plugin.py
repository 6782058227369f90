"""A feature as a typed plug-in: what one feature contributes to the bot and the worker.

Each feature's `feature.py` exports one `FEATURE`; zhiban.features lists them, and zhiban.app
puts them together (routers in that order, texts into one catalog, timers into one registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot import Router
from bot.i18n import Texts
from records.timers import TimerRegistry


def no_timers(registry: TimerRegistry) -> None:
    """For a feature that has no timers."""


@dataclass(frozen=True)
class Feature:
    name: str
    # Called once per dispatcher: each dispatcher gets routers of its own, so a second
    # dispatcher in one process (tests, a standby) never shares or steals them.
    router: Callable[[], Router]
    texts: Texts
    # Modules whose tables the migrations must know (alembic's env imports them).
    model_modules: tuple[str, ...] = ()
    # Adds the feature's timer handlers to the worker's (and the tests') registry.
    register_timers: Callable[[TimerRegistry], None] = no_timers
    # Board sections it contributes (none yet; the board will ask each feature).
    board_sections: tuple[str, ...] = field(default=())
