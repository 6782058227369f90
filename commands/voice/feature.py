"""The voice feature: voice messages become transcripts (filed to their context), and ``!search``.

The bot side (handlers) queues notes; the worker side (commands/voice/jobs.py) runs the
"voice.transcribe" timer registered here.
"""

from __future__ import annotations

from commands.plugin import Feature
from commands.voice import jobs
from commands.voice.handlers import router
from commands.voice.texts import TEXTS
from records.timers import TimerRegistry


def register_timers(registry: TimerRegistry) -> None:
    jobs.register(registry)


FEATURE = Feature(
    name="voice",
    router=router,
    texts=TEXTS,
    model_modules=("commands.voice.models",),
    register_timers=register_timers,
)

__all__ = ["FEATURE"]
