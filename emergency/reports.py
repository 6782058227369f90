"""首报 / 续报 / 终报: filing reports against the incident's clock, and the clock's timers.

A report filed after its deadline is stored with `late=True` (迟报) and shown as such
everywhere; nothing hides it. A missed deadline escalates to the duty leader, repeatedly,
until the report comes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import cards, incidents, outreach
from emergency.grammar import with_resolved_times
from emergency.models import Incident, Report
from emergency.phones import noted
from emergency.texts import tr
from notifications import reach
from records import audit, people
from records.clock import Clock, as_utc
from records.errors import DomainError
from records.models import Timer
from records.timers import Fired
from timeparse import format_when, minutes_late

# The structured fields, in the order they are asked. The report time is the filing time.
FIELDS = ("event_time", "place", "nature", "impact", "casualties", "measures", "needs", "reporter")
KINDS = {
    "first": "first", "首报": "first", "初报": "first",
    "update": "update", "续报": "update",
    "final": "final", "终报": "final",
}  # fmt: skip
ESCALATE_REPEAT = timedelta(minutes=30)


def parse_kind(word: str) -> str | None:
    return KINDS.get(word.strip().lower())


async def next_number(session: AsyncSession, incident: Incident, kind: str) -> int:
    if kind != "update":
        return 0
    count = await session.scalar(
        select(func.count(Report.id)).where(Report.incident_id == incident.id, Report.kind == "update")
    )
    return int(count or 0) + 1


async def check_can_file(session: AsyncSession, incident: Incident, kind: str) -> None:
    """Refuse what makes no sense before the questions start (a second 首报, a 续报 before the 首报)."""
    incidents.require_open(incident)
    kinds = set(await session.scalars(select(Report.kind).where(Report.incident_id == incident.id)))
    if kind == "first" and "first" in kinds:
        raise DomainError("em.report.first_exists", id=incident.code)
    if kind in ("update", "final") and "first" not in kinds:
        raise DomainError("em.report.first_missing", id=incident.code)
    if "final" in kinds:
        raise DomainError("em.report.final_exists", id=incident.code)


def check_fits(fields: dict[str, str], answers: dict[str, str], limit: int) -> None:
    """Refuse answers the report cannot hold whole, rather than cut what the reporter wrote.

    A report is posted as one message, so its fields together get the message cap (`limit`,
    matrix.max_message_chars); `answers` would replace those fields in `fields`.
    """
    rest = sum(len(value) for key, value in fields.items() if key not in answers)
    size = sum(len(value) for value in answers.values())
    if rest + size > limit:
        raise DomainError("em.report.too_long", size=size, limit=limit, left=max(0, limit - rest))


async def file_report(
    session: AsyncSession, incident: Incident, *, kind: str, fields: dict[str, str], actor: str, clock: Clock
) -> Report:
    """File a report; it is late when it is the report the clock waited for and its deadline passed."""
    await check_can_file(session, incident, kind)
    now = clock.now()
    due = incident.next_report_due if incident.next_report == kind else None
    late = due is not None and now > due
    number = await next_number(session, incident, kind)
    report = Report(
        incident_id=incident.id,
        kind=kind,
        number=number,
        # "今天10:20" would mean nothing in the archive: the event time is stored as the date meant.
        fields=with_resolved_times({k: v for k, v in fields.items() if k in FIELDS and v}, now=now, tz=incident.tz),
        filed_by=actor,
        filed_at=now,
        due_at=due,
        late=late,
    )
    session.add(report)
    await session.flush()
    if kind == "update":
        incident.updates_filed = number
    if kind == "final":
        incident.next_report, incident.next_report_due = None, None
    else:
        incident.next_report = "update"
        incident.next_report_due = now + timedelta(minutes=incident.update_minutes)
    await incidents.schedule_report_clock(session, incident, clock)
    name = cards.report_name(kind, number, incident.lang)
    late_mark = tr("em.report.late_mark", incident.lang) if late else ""
    await incidents.add_timeline(
        session, incident, "report", actor, tr("em.tl.report", incident.lang, name=name, late=late_mark), clock=clock
    )
    await audit.record(
        session,
        actor=actor,
        action=f"report.{kind}",
        subject=incident.code,
        data={"number": number, "late": late, "due": due, "fields": report.fields},
        clock=clock,
    )
    await incidents.refresh_card(session, incident, clock)
    return report


async def reports_of(session: AsyncSession, incident: Incident) -> list[Report]:
    rows = await session.scalars(
        select(Report).where(Report.incident_id == incident.id).order_by(Report.filed_at, Report.id)
    )
    return list(rows)


# -- timers --------------------------------------------------------------------------------------
async def _still_waiting(session: AsyncSession, timer: Timer) -> Incident | None:
    """The incident, if it still waits for the report this timer was set for (else the timer is stale)."""
    payload = timer.payload or {}
    incident = await session.get(Incident, int(payload.get("incident", 0)))
    if incident is None or incident.status != "open" or incident.next_report_due is None:
        return None
    if incident.next_report != payload.get("kind"):
        return None
    if as_utc(incident.next_report_due) != as_utc(datetime.fromisoformat(str(payload.get("due")))):
        return None
    return incident


def _due_name(incident: Incident) -> str:
    kind = incident.next_report or "first"
    return cards.report_name(kind, incident.updates_filed + 1, incident.lang)


async def fire_remind(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Before a deadline: a reminder in the incident room."""
    incident = await _still_waiting(session, timer)
    if incident is None or incident.next_report_due is None:
        return None
    due = format_when(incident.next_report_due, tz=incident.tz, lang=incident.lang)
    text = tr("em.clock.remind", incident.lang, id=incident.code, name=_due_name(incident), due=due)
    room, made_by = await incidents.room_of(session, incident)  # not made yet (an outage): waits for it
    await outreach.post(session, room, text, urgent=True, room_ref=made_by)
    return None


class _DueParams(TypedDict):
    """The placeholders the due and overdue texts share."""

    id: str
    title: str
    name: str
    minutes: int


async def fire_due(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """A deadline passed without the report: tell the room and escalate to the duty leader, again
    every half hour until it is filed."""
    incident = await _still_waiting(session, timer)
    if incident is None or incident.next_report_due is None:
        return None
    now = clock.now()
    overdue = minutes_late((now - as_utc(incident.next_report_due)).total_seconds())
    name = _due_name(incident)
    params: _DueParams = {"id": incident.code, "title": incident.title, "name": name, "minutes": overdue}
    # The timer fires at the deadline: there the report is due, not "0 minutes late".
    room_key, dm_key = (
        ("em.clock.overdue_room", "em.clock.overdue_dm")
        if overdue
        else ("em.clock.due_now_room", "em.clock.due_now_dm")
    )
    room, made_by = await incidents.room_of(session, incident)
    await outreach.post(session, room, tr(room_key, incident.lang, **params), urgent=True, room_ref=made_by)
    leaders = incidents.duty_leaders(incident)
    # The duty leader can call the commander who owes the report (with the roster's number).
    commanders = incidents.commanders(incident)
    phones = await people.phones(session, commanders)
    for leader in leaders:
        lang = await reach.language_of(session, leader, incident.lang)
        others = [noted(user, phones, lang) for user in commanders if user != leader]
        contact = tr("em.clock.contact", lang, people=cards.people_list(others, lang)) if others else ""
        await outreach.dm(session, leader, dm_key, default_lang=incident.lang, urgent=True, contact=contact, **params)
    await outreach.push(
        session,
        leaders,
        kind="emergency",
        title_key="em.push.overdue",
        body=incident.title,
        clock=clock,
        ref=f"report:{incident.code}",
        **params,
    )
    first_time = int((timer.payload or {}).get("escalations", 0)) == 0
    if first_time:
        await incidents.add_timeline(
            session, incident, "overdue", cards.SYSTEM_ACTOR, tr("em.tl.overdue", incident.lang, name=name), clock=clock
        )
        await incidents.refresh_card(session, incident, clock)
    await audit.record(
        session,
        actor=cards.SYSTEM_ACTOR,
        action="report.overdue",
        subject=incident.code,
        data={"kind": incident.next_report, "minutes": overdue, "escalated_to": leaders},
        clock=clock,
    )
    timer.payload = {**(timer.payload or {}), "escalations": int((timer.payload or {}).get("escalations", 0)) + 1}
    return Fired(again_at=now + ESCALATE_REPEAT)
