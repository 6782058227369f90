"""The emergency feature's chat side: one router, made fresh for each dispatcher."""

from __future__ import annotations

from bot import Router
from commands.plugin import LatestTranscript
from emergency.handlers import duty, incident, orders, reports
from emergency.reachability import greet_at_start


def router(transcripts: LatestTranscript) -> Router:
    """``transcripts``: the voice feature's look-up, for the report wizard's spoken answers."""
    made = Router("emergency")
    made.startup()(greet_at_start)
    # The report wizard comes first so that its answers are not read as anything else.
    for part in (reports.router(transcripts), duty.router(), incident.router(), orders.router()):
        made.include_router(part)
    return made
