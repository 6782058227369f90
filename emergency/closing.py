"""Closing an incident: its clocks and nags stop and its final report is archived.

Apart from incidents.py because the final report reads the incident's timeline, orders and
reports: the dependency runs one way (closing → final_report → incidents), with no import
inside a function to dodge a circle.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import incidents
from emergency.final_report import build_markdown
from emergency.models import Incident, Order
from emergency.texts import tr
from records import audit, timers
from records.clock import Clock
from records.errors import NotAllowed


def check_may_close(incident: Incident, actor: str, office_roles: set[str]) -> None:
    """Refuse unless the incident is open and `actor` may command it."""
    incidents.require_open(incident)
    if not incidents.may_command(incident, actor, office_roles):
        raise NotAllowed("em.incident.close_not_allowed", id=incident.code)


async def close(
    session: AsyncSession,
    incident: Incident,
    *,
    actor: str,
    office_roles: set[str],
    clock: Clock,
    confirmed_with: str | None = None,
) -> str:
    """Stop every clock and nag of the incident and archive the final report (Markdown).

    `confirmed_with`: the passkey credential id or "totp" that confirmed the close on the
    phone (records.stepup), named in the audit entry."""
    check_may_close(incident, actor, office_roles)
    now = clock.now()
    await timers.cancel_prefix(session, incidents.clock_prefix(incident.id))
    for order_id in await session.scalars(select(Order.id).where(Order.incident_id == incident.id)):
        await timers.cancel_prefix(session, f"order:O{order_id}:")
    await incidents.add_timeline(session, incident, "closed", actor, tr("em.tl.closed", incident.lang), clock=clock)
    incident.status = "closed"
    incident.closed_at = now
    incident.closed_by = actor
    incident.next_report = None
    incident.next_report_due = None
    markdown = await build_markdown(session, incident)
    incident.final_markdown = markdown
    await audit.record(
        session,
        actor=actor,
        action="incident.close",
        subject=incident.code,
        data={"chars": len(markdown)} | ({"confirmed_with": confirmed_with} if confirmed_with else {}),
        clock=clock,
    )
    await incidents.refresh_card(session, incident, clock)
    return markdown
