"""Incidents: declaration, roles, the timeline, the summary card, grade changes and closing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import cards, room_admin
from emergency.models import AlertAck, Incident, Order, Report, TimelineEntry
from emergency.policy import CATEGORIES, ROMAN, Policy
from emergency.texts import tr
from notifications.names import names_for
from records import audit, outbox, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from records.models import OutboxMessage

ROLE_NAMES = {
    "commander": "commander", "指挥长": "commander", "指挥": "commander",
    "deputy": "deputy", "副指挥长": "deputy", "副指挥": "deputy",
    "liaison": "liaison", "联络员": "liaison", "联络": "liaison",
    "recorder": "recorder", "记录员": "recorder", "记录": "recorder",
    "spokesperson": "spokesperson", "发言人": "spokesperson", "新闻发言人": "spokesperson",
    "duty_leader": "duty_leader", "带班领导": "duty_leader",
}  # fmt: skip
# Who may run an incident: its commanders and duty leaders, and office-wide duty leaders and admins.
COMMAND_ROLES = ("commander", "deputy", "duty_leader")
OFFICE_COMMAND_ROLES = {"duty_leader", "admin"}
_CODE = re.compile(r"^[Ee](\d{1,9})$")
# The ref prefix of the outbox action that creates an incident's room ("incident-room:E5").
ROOM_ACTION = "incident-room:"


def parse_code(word: str) -> int | None:
    match = _CODE.match(word.strip())
    return int(match.group(1)) if match else None


def card_ref(incident: Incident) -> str:
    return f"card:{incident.code}"


def clock_prefix(incident_id: int) -> str:
    return f"incident:{incident_id}:"


@dataclass
class People:
    """Who an incident starts with: the duty leader(s) and officers on duty, and the responders."""

    duty_leaders: list[str]
    duty_officers: list[str]
    responders: list[str]


async def declare(
    session: AsyncSession,
    *,
    actor: str,
    grade: int,
    category: str | None,
    title: str,
    people: People,
    policy: Policy,
    clock: Clock,
    lang: str = "zh",
    tz: str = "Asia/Shanghai",
    confirmed_with: str | None = None,
) -> Incident:
    """Open an incident and start its 首报 clock; the caller creates the room and sets room_id.

    `confirmed_with`: the credential that confirmed a binding declaration on the phone."""
    title = title.strip()
    if not title:
        raise DomainError("em.incident.no_title")
    now = clock.now()
    members = list(dict.fromkeys([actor, *people.duty_leaders, *people.duty_officers, *people.responders]))
    commander = people.duty_leaders[:1] or [actor]
    incident = Incident(
        grade=grade,
        category=category,
        title=title[:500],
        status="open",
        lang=lang,
        tz=tz,
        declared_by=actor,
        declared_at=now,
        roles={"commander": commander, "duty_leader": list(people.duty_leaders)},
        members=members,
        first_minutes=policy.first_for(grade),
        update_minutes=policy.update_for(grade),
        remind_minutes=policy.remind_before_minutes,
        ack_minutes=policy.ack_for(grade),
        nag_escalate_after=policy.nag_escalate_after,
        nag_max=policy.nag_max,
        next_report="first",
        next_report_due=now + timedelta(minutes=policy.first_for(grade)),
        updates_filed=0,
    )
    session.add(incident)
    await session.flush()
    await add_timeline(
        session,
        incident,
        "declared",
        actor,
        tr("em.tl.declared", lang, grade=ROMAN[grade], category=category or "—", title=incident.title),
        clock=clock,
    )
    await audit.record(
        session,
        actor=actor,
        action="incident.declare",
        subject=incident.code,
        data={"grade": grade, "category": category, "title": incident.title, "members": members}
        | ({"confirmed_with": confirmed_with} if confirmed_with else {}),
        clock=clock,
    )
    await schedule_report_clock(session, incident, clock)
    return incident


async def attach_room(session: AsyncSession, incident: Incident, room_id: str) -> None:
    incident.room_id = room_id
    await session.flush()


def room_action_ref(incident: Incident) -> str:
    """The `ref` of the outbox action that creates the incident's room."""
    return f"{ROOM_ACTION}{incident.code}"


async def queue_room(session: AsyncSession, incident: Incident, *, name: str, topic: str, clock: Clock) -> int:
    """Queue the incident room's creation (its commanders as moderators) and, waiting for it, the
    summary card and its pin. Returns the action's outbox id: rows that go in the room, or link
    to it, are queued with `room_ref=` it.

    The relay creates the room once, even across a crash (see zhiban.relay), and records its id
    on the incident (`_room_made`); until then `incident.room_id` is None. The room is created
    with nobody invited: the homeserver takes ~60 ms per invitation at creation, and the alert
    DMs, which wait for the room only for its link, would wait for every one of them. Its
    members are invited by an action queued when it is made, after the card."""
    action = await outbox.enqueue_room(
        session,
        ref=room_action_ref(incident),
        name=name,
        topic=topic,
        invite=[],
        moderators=powered_users(incident),
        priority=outbox.URGENT,
    )
    body, html = await card_content(session, incident, clock)
    card = await outbox.enqueue(
        session, outbox.text_content(body, html), room_ref=action.id, ref=card_ref(incident), priority=outbox.URGENT
    )
    await outbox.enqueue(
        session,
        {"pinned": []},
        room_ref=action.id,
        event_type="m.room.pinned_events",
        relates_to_outbox_id=card.id,
        relation=outbox.PIN,
        priority=outbox.URGENT,
    )
    return action.id


async def _room_made(session: AsyncSession, ref: str, room_id: str) -> None:
    """The relay made the incident's room: record it (in the transaction marking it made)."""
    incident_id = parse_code(ref.removeprefix(ROOM_ACTION))
    # Locked (see `lock`): a turn giving someone a role now either committed before this read,
    # and they are in `members`, or waits for this commit and sees the room, and invites them.
    incident = (
        await session.get(Incident, incident_id, with_for_update=True, populate_existing=True)
        if incident_id is not None
        else None
    )
    if incident is None or incident.room_id == room_id:
        return
    incident.room_id = room_id
    await audit.record(
        session, actor=cards.SYSTEM_ACTOR, action="incident.room", subject=incident.code, data={"room": room_id}
    )
    # Everyone the incident has now (its members when declared, and any given a role since) is
    # invited after the card and its pin, in this transaction: once, even across a crash.
    await room_admin.queue_admission(session, room_id, incident.members or [])
    await session.flush()


outbox.on_room_made(ROOM_ACTION, _room_made)


# -- lookup --------------------------------------------------------------------------------
async def get(session: AsyncSession, incident_id: int) -> Incident:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        raise NotFound("em.incident.not_found", id=f"E{incident_id}")
    return incident


async def in_room(session: AsyncSession, room_id: str) -> Incident | None:
    return await session.scalar(select(Incident).where(Incident.room_id == room_id).order_by(Incident.id.desc()))


async def open_incidents(session: AsyncSession) -> list[Incident]:
    return list(await session.scalars(select(Incident).where(Incident.status == "open").order_by(Incident.id)))


async def room_of(session: AsyncSession, incident: Incident) -> tuple[str | None, int | None]:
    """Where a post to the incident room goes: (its room, None), or while the relay has not
    recorded it yet (None, the id of the action making it), for `room_ref=`: the relay sends such
    rows in the room once made, with its link. Either order of this turn and the relay's commit
    ends in the room, with no lock: the action row outlives its creation. (None, None): an
    incident with no room queued."""
    if incident.room_id:
        return incident.room_id, None
    action = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.ref == room_action_ref(incident), OutboxMessage.event_type == outbox.CREATE_ROOM)
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    )
    return None, action


async def lock(session: AsyncSession, incident: Incident) -> None:
    """Hold the incident's row to the end of the transaction, and read it afresh.

    The relay records the incident's room (`_room_made`) while a turn may be adding people to
    it: each locks the row before reading `room_id` and `members`, so whichever comes second
    sees what the first wrote, and nobody given a role meanwhile is left uninvited. On
    PostgreSQL it is FOR UPDATE; SQLite's write lock already serialises the two (no clause)."""
    await session.flush()
    await session.refresh(incident, with_for_update=True)


def require_open(incident: Incident) -> None:
    if incident.status != "open":
        raise DomainError("em.incident.closed", id=incident.code)


def may_command(incident: Incident, user: str, office_roles: set[str]) -> bool:
    if office_roles & OFFICE_COMMAND_ROLES or user == incident.declared_by:
        return True
    return any(user in (incident.roles or {}).get(role, []) for role in COMMAND_ROLES)


def commanders(incident: Incident) -> list[str]:
    roles = incident.roles or {}
    found = [*roles.get("commander", []), *roles.get("deputy", [])]
    return list(dict.fromkeys(found or [incident.declared_by]))


def powered_users(incident: Incident) -> list[str]:
    """Who gets moderator power in the incident room: its commander(s) and deputies."""
    roles = incident.roles or {}
    return list(dict.fromkeys([*roles.get("commander", []), *roles.get("deputy", [])]))


def duty_leaders(incident: Incident) -> list[str]:
    roles = incident.roles or {}
    return list(roles.get("duty_leader", [])) or commanders(incident)


# -- roles ---------------------------------------------------------------------------------
async def set_role(
    session: AsyncSession,
    incident: Incident,
    *,
    role_word: str,
    users: list[str],
    actor: str,
    office_roles: set[str],
    clock: Clock,
) -> str:
    """Give a role to people (replacing who had it); returns the canonical role name.

    They are invited to the incident room (commanders and deputies made its moderators) once
    the turn commits, wherever the role was given: from inside the room it may go to someone
    not in it. Before the room is recorded the relay invites them with the other members."""
    await lock(session, incident)
    require_open(incident)
    role = ROLE_NAMES.get(role_word.lower()) or ROLE_NAMES.get(role_word)
    if role is None:
        raise DomainError("em.role.unknown", role=role_word[:30])
    if not users:
        raise DomainError("em.role.nobody")
    if not may_command(incident, actor, office_roles):
        raise NotAllowed("em.role.not_allowed", id=incident.code)
    roles = dict(incident.roles or {})
    before = roles.get(role, [])
    roles[role] = list(dict.fromkeys(users))
    incident.roles = roles
    incident.members = list(dict.fromkeys([*(incident.members or []), *users]))
    names = " ".join(users)
    await add_timeline(
        session,
        incident,
        "role",
        actor,
        tr("em.tl.role", incident.lang, role=tr(f"em.role.{role}", incident.lang), users=names),
        clock=clock,
    )
    await audit.record(
        session,
        actor=actor,
        action="incident.role",
        subject=incident.code,
        data={"role": role, "from": before, "to": roles[role]},
        clock=clock,
    )
    await refresh_card(session, incident, clock)
    powered = role in room_admin.POWERED_ROLES
    await room_admin.queue_admission(session, incident.room_id, roles[role], moderators=powered)
    return role


# -- timeline ------------------------------------------------------------------------------
async def add_timeline(
    session: AsyncSession,
    incident: Incident,
    kind: str,
    actor: str,
    text: str,
    *,
    clock: Clock,
    event_id: str | None = None,
    at: datetime | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident.id, at=at or clock.now(), kind=kind, actor=actor, text=text, event_id=event_id
    )
    session.add(entry)
    await session.flush()
    return entry


async def pin_message(
    session: AsyncSession, incident: Incident, *, actor: str, text: str, event_id: str, clock: Clock
) -> TimelineEntry | None:
    """📌 on a message adds it to the timeline once (a second 📌 on it changes nothing)."""
    exists = await session.scalar(
        select(TimelineEntry.id).where(TimelineEntry.incident_id == incident.id, TimelineEntry.event_id == event_id)
    )
    if exists is not None:
        return None
    entry = await add_timeline(session, incident, "pinned", actor, text[:2000], clock=clock, event_id=event_id)
    await audit.record(
        session, actor=actor, action="incident.pin", subject=incident.code, data={"event": event_id}, clock=clock
    )
    return entry


async def timeline(session: AsyncSession, incident: Incident) -> list[TimelineEntry]:
    rows = await session.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.incident_id == incident.id)
        .order_by(TimelineEntry.at, TimelineEntry.id)
    )
    return list(rows)


# -- the card ------------------------------------------------------------------------------
async def refresh_card(session: AsyncSession, incident: Incident, clock: Clock) -> None:
    """Edit the pinned summary card in place (nothing when the card was never sent)."""
    body, html = await card_content(session, incident, clock)
    await outbox.enqueue_edit(session, card_ref(incident), outbox.text_content(body, html))


async def card_content(session: AsyncSession, incident: Incident, clock: Clock) -> tuple[str, str]:
    reports = list(await session.scalars(select(Report).where(Report.incident_id == incident.id)))
    orders = list(await session.scalars(select(Order).where(Order.incident_id == incident.id)))
    acks = await alert_acks(session, incident)
    card = cards.incident_card(incident, reports=reports, order_count=len(orders), now=clock.now(), acks=acks)
    names = await names_for(session, card.title, *(line for line in card.blocks if isinstance(line, str)))
    return card.body(names), card.html(names)


# -- the alert DM and its ✅ -----------------------------------------------------------------
def alert_ref(incident: Incident, user: str) -> str:
    return f"incident:{incident.code}:dm:{user}"


def alert_of_ref(ref: str) -> tuple[int, str] | None:
    """(incident id, user) of an alert DM's ref ("incident:E5:dm:@a:x"), else None."""
    head, sep, user = ref.partition(":dm:")
    if not sep or not head.startswith("incident:"):
        return None
    incident_id = parse_code(head.removeprefix("incident:"))
    return (incident_id, user) if incident_id is not None else None


async def alert_acks(session: AsyncSession, incident: Incident) -> list[AlertAck]:
    rows = await session.scalars(select(AlertAck).where(AlertAck.incident_id == incident.id).order_by(AlertAck.id))
    return list(rows)


async def note_alerted(session: AsyncSession, incident: Incident, users: list[str], clock: Clock) -> list[str]:
    """Record who is sent the alert DM (once each); returns those not alerted before."""
    known = {a.user_id for a in await alert_acks(session, incident)}
    fresh = [u for u in dict.fromkeys(users) if u not in known]
    for user in fresh:
        session.add(AlertAck(incident_id=incident.id, user_id=user, alerted_at=clock.now()))
    await session.flush()
    return fresh


async def acknowledge_alert(session: AsyncSession, incident: Incident, *, user: str, clock: Clock) -> bool:
    """✅ on the alert DM: `user` has the declaration. True when this changed something."""
    ack = await session.scalar(select(AlertAck).where(AlertAck.incident_id == incident.id, AlertAck.user_id == user))
    if ack is None or ack.acked_at is not None:
        return False
    ack.acked_at = clock.now()
    await add_timeline(
        session, incident, "alert_ack", user, tr("em.tl.alert_ack", incident.lang, user=user), clock=clock
    )
    await audit.record(session, actor=user, action="incident.alert_ack", subject=incident.code, clock=clock)
    await refresh_card(session, incident, clock)
    return True


# -- the class, given after the declaration ----------------------------------------------------
async def set_category(
    session: AsyncSession,
    incident: Incident,
    *,
    category: str,
    actor: str,
    office_roles: set[str],
    policy: Policy,
    clock: Clock,
) -> list[str]:
    """`!incident class E5 <class>`: set (or change) the class and add the responders configured
    for it and the grade; returns the responders new to the incident, whom the caller invites."""
    await lock(session, incident)  # the room it invites them to may be being recorded (`lock`)
    require_open(incident)
    if not may_command(incident, actor, office_roles):
        raise NotAllowed("em.incident.not_allowed", id=incident.code)
    if category not in CATEGORIES:
        raise DomainError("em.incident.bad_class", value=category[:20])
    if category == incident.category:
        raise DomainError("em.incident.same_class", category=category)
    before = incident.category
    members = list(incident.members or [])
    fresh = [u for u in policy.responders_for(category, incident.grade) if u not in members]
    incident.category = category
    incident.members = [*members, *fresh]
    none = tr("em.card.no_class", incident.lang)
    await add_timeline(
        session,
        incident,
        "class",
        actor,
        tr("em.tl.class", incident.lang, before=before or none, after=category, users=" ".join(fresh) or "—"),
        clock=clock,
    )
    await audit.record(
        session,
        actor=actor,
        action="incident.class",
        subject=incident.code,
        data={"from": before, "to": category, "invited": fresh},
        clock=clock,
    )
    await refresh_card(session, incident, clock)
    return fresh


# -- the report clock ----------------------------------------------------------------------
async def schedule_report_clock(session: AsyncSession, incident: Incident, clock: Clock) -> None:
    """(Re)arm the reminder and the deadline of the next report; both keyed per incident."""
    prefix = clock_prefix(incident.id)
    if incident.status != "open" or incident.next_report is None or incident.next_report_due is None:
        await timers.cancel_prefix(session, prefix + "report:")
        return
    due = incident.next_report_due
    payload = {"incident": incident.id, "kind": incident.next_report, "due": due.isoformat()}
    remind_at = due - timedelta(minutes=incident.remind_minutes)
    if incident.remind_minutes > 0 and remind_at > clock.now():
        await timers.schedule(
            session, "emergency.report_remind", remind_at, payload, key=prefix + "report:remind", clock=clock
        )
    else:
        await timers.cancel(session, prefix + "report:remind")
    await timers.schedule(session, "emergency.report_due", due, payload, key=prefix + "report:due", clock=clock)


async def change_grade(
    session: AsyncSession,
    incident: Incident,
    *,
    grade: int,
    actor: str,
    office_roles: set[str],
    policy: Policy,
    clock: Clock,
) -> None:
    """`!incident escalate E5 <grade>`: new grade, new clock periods, the pending deadline moved."""
    require_open(incident)
    if not may_command(incident, actor, office_roles):
        raise NotAllowed("em.incident.not_allowed", id=incident.code)
    if grade == incident.grade:
        raise DomainError("em.incident.same_grade", grade=ROMAN[grade])
    before = incident.grade
    incident.grade = grade
    incident.first_minutes = policy.first_for(grade)
    incident.update_minutes = policy.update_for(grade)
    incident.ack_minutes = policy.ack_for(grade)
    if incident.next_report == "first":
        incident.next_report_due = incident.declared_at + timedelta(minutes=incident.first_minutes)
    elif incident.next_report == "update":
        last = await session.scalar(
            select(Report.filed_at).where(Report.incident_id == incident.id).order_by(Report.filed_at.desc()).limit(1)
        )
        base = last or incident.declared_at
        incident.next_report_due = base + timedelta(minutes=incident.update_minutes)
    await schedule_report_clock(session, incident, clock)
    await add_timeline(
        session,
        incident,
        "grade",
        actor,
        tr("em.tl.grade", incident.lang, before=ROMAN[before], after=ROMAN[grade]),
        clock=clock,
    )
    await audit.record(
        session,
        actor=actor,
        action="incident.grade",
        subject=incident.code,
        data={"from": before, "to": grade},
        clock=clock,
    )
    await refresh_card(session, incident, clock)
