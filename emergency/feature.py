"""The emergency feature: duty roster and log, incidents, orders, reports and their clocks."""

from __future__ import annotations

from typing import Any

from bot import Router
from commands.plugin import VoiceFiler
from emergency import orders, reports
from emergency.handlers_duty import router as duty_router
from emergency.handlers_incident import router as incident_router
from emergency.handlers_orders import router as orders_router
from emergency.handlers_reports import router as reports_router
from emergency.policy import Policy
from emergency.reachability import open_direct_rooms, people_to_reach
from emergency.texts import TEXTS as OWN_TEXTS
from emergency.voice import file_to_incident
from records import outbox
from records.db import Database
from records.timers import TimerRegistry
from timeparse import TEXTS as TIME_TEXTS

router = Router("emergency")

# A voice message in an open incident's room joins its timeline.
VOICE_FILERS: tuple[VoiceFiler, ...] = (VoiceFiler(file_to_incident),)


@router.startup()
async def open_dm_rooms(settings: Any, db: Database, client: Any = None) -> None:
    """Greet everyone an alert may reach once, so their DM rooms exist before the first alert."""
    people = people_to_reach(Policy.from_settings(settings.emergency), settings.roles, settings.emergency.alert_roles)
    async with db.transaction() as session:
        bot_user = getattr(client, "user_id", settings.matrix.user_id)
        await open_direct_rooms(session, people, bot_user, settings.default_lang)
    outbox.wake_relay()


# The report wizard comes first so that its answers are not read as anything else.
for _sub in (reports_router, duty_router, incident_router, orders_router):
    router.include_router(_sub)

TEXTS: dict[str, dict[str, str]] = {**TIME_TEXTS, **OWN_TEXTS}
MODEL_MODULES: list[str] = ["emergency.models"]


def register_timers(registry: TimerRegistry) -> None:
    """Report reminders and deadlines, and order nags (all durable, keyed per incident/order)."""
    registry.register("emergency.report_remind")(reports.fire_remind)
    registry.register("emergency.report_due")(reports.fire_due)
    registry.register("emergency.order_nag")(orders.fire_nag)


__all__ = ["MODEL_MODULES", "TEXTS", "VOICE_FILERS", "register_timers", "router"]
