"""The push feature: `!push` and `!quiet`, the push tables, and the worker's send timer."""

from __future__ import annotations

import functools

from commands.plugin import Feature
from commands.push.handlers import router
from commands.push.texts import TEXTS
from notifications.delivery import PushRuntime, make_send_handler
from notifications.service import SEND_KIND
from records.timers import TimerRegistry


@functools.cache
def _runtime() -> PushRuntime:
    # Resolved when the first push is sent, in the worker, from the same config as its jobs.
    from records.config import load_settings

    return PushRuntime.from_settings(load_settings())


def register_timers(registry: TimerRegistry) -> None:
    registry.register_io(SEND_KIND)(make_send_handler(_runtime))


FEATURE = Feature(
    name="push",
    router=router,
    texts=TEXTS,
    model_modules=("notifications.models",),
    register_timers=register_timers,
)

__all__ = ["FEATURE"]
