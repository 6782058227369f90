"""The voice feature: voice messages become transcripts (filed to their context), and ``!search``.

The bot side (handlers) queues notes; the worker side (voice/jobs.py) runs the
"voice.transcribe" timer registered here.
"""

from __future__ import annotations

from commands.voice.filers import register_builtin_filers
from commands.voice.handlers import router
from commands.voice.texts import TEXTS
from records.timers import TimerRegistry

MODEL_MODULES: list[str] = ["commands.voice.models"]

# Both processes load the feature: the worker files transcripts, the bot may too in tests.
register_builtin_filers()


def register_timers(registry: TimerRegistry) -> None:
    from voice.jobs import register

    register(registry)


__all__ = ["MODEL_MODULES", "TEXTS", "register_timers", "router"]
