"""The push feature: `!push` and `!quiet`, the push tables, and the worker's send timer."""

from __future__ import annotations

from commands.plugin import Feature
from commands.push.board import notices_section
from commands.push.handlers import router
from commands.push.texts import TEXTS
from notifications.delivery import PushRuntime, make_send_handler
from notifications.service import SEND_KIND
from records.config import Settings
from records.timers import TimerRegistry


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    # The settings the worker runs with (no reload of the config file of its own).
    runtime = PushRuntime.from_settings(settings)
    registry.register_io(SEND_KIND)(make_send_handler(lambda: runtime))


FEATURE = Feature(
    name="push",
    router=router,
    texts=TEXTS,
    model_modules=("notifications.models",),
    register_timers=register_timers,
    # The notices sent to the viewer (the phone page's list) on the board.
    board_sections=(notices_section,),
)

__all__ = ["FEATURE"]
