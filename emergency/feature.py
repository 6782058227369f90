"""The emergency feature: duty roster and log, incidents, orders, reports and their clocks."""

from __future__ import annotations

from functools import partial

from commands.plugin import Feature, LatestTranscript, VoiceFiler
from emergency import orders, reports
from emergency.board import duty_section, emergency_section
from emergency.handlers import router
from emergency.texts import TEXTS as OWN_TEXTS
from emergency.voice import amend_timeline, file_to_incident
from records.config import Settings
from records.timers import TimerRegistry
from timeparse import TEXTS as TIME_TEXTS


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    """Report reminders and deadlines, and order nags (all durable, keyed per incident/order)."""
    registry.register("emergency.report_remind")(reports.fire_remind)
    registry.register("emergency.report_due")(reports.fire_due)
    registry.register("emergency.order_nag")(orders.fire_nag)


def emergency_feature(transcripts: LatestTranscript) -> Feature:
    """The emergency feature; its report wizard reads a spoken answer with ``transcripts``
    (the voice feature's look-up, handed in by the wiring: emergency imports nothing of voice)."""
    return Feature(
        name="emergency",
        router=partial(router, transcripts),
        # The time words of its commands (明天 8:30, 次日) come from the timeparse library's catalog.
        texts={**TIME_TEXTS, **OWN_TEXTS},
        model_modules=("emergency.models",),
        register_timers=register_timers,
        # A voice message in an open incident's room joins its timeline.
        voice_filers=(VoiceFiler(file_to_incident, amend=amend_timeline),),
        # Open incidents, late reports and unacknowledged orders; today's duty and hand-over.
        board_sections=(emergency_section, duty_section),
    )


__all__ = ["emergency_feature"]
