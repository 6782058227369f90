"""The voice feature: voice messages become transcripts (filed to their context), and ``!search``.

The bot side (handlers) queues notes; the worker side (commands/voice/jobs.py) runs the
"voice.transcribe" timer registered here. Where a transcript is filed is the other features'
business: each contributes its `voice_filers` (and its `searchers` for ``!search``), and the
wiring (zhiban.features) makes this feature with them, so voice knows nothing of incidents,
meetings or tasks.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from commands.plugin import Feature, LatestTranscript, VoiceFiler
from commands.record_search import Searcher
from commands.voice import jobs, recording_jobs, service
from commands.voice.handlers import router
from commands.voice.texts import TEXTS
from records.config import Settings
from records.timers import TimerRegistry

#: What a feature taking spoken answers reads them with (the wiring hands it over).
latest_transcript: LatestTranscript = service.latest_note


def voice_feature(filers: Iterable[VoiceFiler] = (), searchers: Iterable[Searcher] = ()) -> Feature:
    """The voice feature, filing transcripts with ``filers`` and searching with ``searchers``
    besides its own transcripts (those the other features contribute)."""
    chosen = tuple(filers)
    # `!search` runs in any dispatcher of this process: the registry is the module's (idempotent).
    for searcher in searchers:
        service.register_searcher(searcher)

    def register_timers(registry: TimerRegistry, settings: Settings) -> None:
        jobs.register(registry, chosen)
        recording_jobs.register(registry, chosen)

    return Feature(
        name="voice",
        router=partial(router, chosen),
        texts=TEXTS,
        model_modules=("commands.voice.models", "commands.voice.recording_models"),
        register_timers=register_timers,
    )


__all__ = ["latest_transcript", "voice_feature"]
