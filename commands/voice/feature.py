"""The voice feature: voice messages become transcripts (filed to their context), and ``!search``.

The bot side (handlers) queues notes; the worker side (commands/voice/jobs.py) runs the
"voice.transcribe" timer registered here.
"""

from __future__ import annotations

from commands.voice.handlers import router
from commands.voice.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.voice.models"]


def register_timers(registry: TimerRegistry) -> None:
    from commands.voice.jobs import register

    register(registry)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
