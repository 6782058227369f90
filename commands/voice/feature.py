"""The voice feature: voice messages become transcripts (filed to their context), and ``!search``.

The bot side (handlers) queues notes; the worker side (commands/voice/jobs.py) runs the
"voice.transcribe" timer registered here. Where a transcript is filed is the other features'
business: each contributes its `voice_filers`, and the wiring (zhiban.features) makes this
feature with them, so voice knows nothing of incidents, meetings or tasks.
"""

from __future__ import annotations

from collections.abc import Iterable

from commands.plugin import Feature, VoiceFiler
from commands.voice import jobs
from commands.voice.handlers import router
from commands.voice.texts import TEXTS
from records.config import Settings
from records.timers import TimerRegistry


def voice_feature(filers: Iterable[VoiceFiler] = ()) -> Feature:
    """The voice feature, filing transcripts with ``filers`` (those the other features contribute)."""
    chosen = tuple(filers)

    def register_timers(registry: TimerRegistry, settings: Settings) -> None:
        jobs.register(registry, chosen)

    return Feature(
        name="voice",
        router=router,
        texts=TEXTS,
        model_modules=("commands.voice.models",),
        register_timers=register_timers,
    )


__all__ = ["voice_feature"]
