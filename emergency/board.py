"""The emergency and duty sections of the board.

应急: open incidents by grade with their age and the next report due (🔴 迟报 once it is past
due), the incidents declared in the last day, and orders someone has not acknowledged yet.
值班: the current shift's duty leader and officers, and whether its hand-over was done.

Every incident and order passes the rule of chat (emergency.access): a stranger to an
incident sees nothing of it, its orders included; the duty roles and the people on shift see
every one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.board_section import Action, Item, Section, Viewer
from emergency import access, roster
from emergency.cards import report_name
from emergency.models import Handover, Incident, Order, Receipt
from emergency.policy import ROMAN
from emergency.texts import tr
from records.clock import as_utc
from timeparse import format_duration, format_when

LIMIT = 15
#: "Overnight": what was declared within this before the board is read.
RECENT = timedelta(hours=24)
# A hand-over written this long before a shift starts counts as that shift's.
HANDOVER_EARLY = timedelta(hours=2)


def _join(people: Sequence[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(people)


async def emergency_viewer(session: AsyncSession, viewer: Viewer, now: datetime) -> access.Viewer:
    """The chat rule's viewer for a board read: no room (the board is no room), on shift or not."""
    on_duty = viewer.user_id in await roster.on_duty(session, now)
    return access.Viewer(user=viewer.user_id, room_id=None, office_roles=viewer.roles, on_duty=on_duty)


def _participant(user: str) -> ColumnElement[bool]:
    """Narrows incidents to those naming ``user`` (JSON lists matched as text; the rule decides)."""
    return or_(
        Incident.declared_by == user,
        Incident.closed_by == user,
        visibility.json_names(Incident.members, user),
        cast(Incident.roles, String).like(f'%"{visibility.like_escape(user)}"%', escape="\\"),
    )


def _incident_item(incident: Incident, viewer: Viewer, now: datetime) -> Item:
    lang = viewer.lang
    age = format_duration((now - as_utc(incident.declared_at)).total_seconds(), lang)
    lines = [tr("board.em.age", lang, grade=ROMAN[incident.grade], age=age)]
    due = as_utc(incident.next_report_due) if incident.next_report_due else None
    late = False
    if incident.next_report and due is not None:
        name = report_name(incident.next_report, incident.updates_filed + 1, lang)
        when = format_when(due, tz=viewer.tz, lang=lang, now=now)
        late = now > due
        if late:
            lines.append(tr("board.em.late", lang, name=name, span=format_duration((now - due).total_seconds(), lang)))
        else:
            left = format_duration((due - now).total_seconds(), lang)
            lines.append(tr("board.em.next", lang, name=name, due=when, left=left))
    group = tr("board.em.grade", lang, grade=ROMAN[incident.grade])
    return Item(ref=incident.code, title=incident.title, lines=tuple(lines), late=late, due=due, group=group)


async def _incidents(session: AsyncSession, viewer: Viewer, rule: access.Viewer, now: datetime) -> list[Item]:
    query = select(Incident).where(Incident.status == "open")
    if not rule.sees_every_incident:
        query = query.where(_participant(viewer.user_id))
    query = query.order_by(Incident.grade, Incident.declared_at).limit(LIMIT * 4)
    found = access.visible_incidents(await session.scalars(query), rule)[:LIMIT]
    return [_incident_item(incident, viewer, now) for incident in found]


async def _recent(session: AsyncSession, viewer: Viewer, rule: access.Viewer, now: datetime) -> tuple[str, ...]:
    query = select(Incident).where(Incident.declared_at >= now - RECENT)
    if not rule.sees_every_incident:
        query = query.where(_participant(viewer.user_id))
    found = access.visible_incidents(await session.scalars(query.limit(200)), rule)
    if not found:
        return ()
    closed = sum(1 for incident in found if incident.status != "open")
    return (tr("board.em.recent", viewer.lang, count=len(found), closed=closed),)


async def _orders(session: AsyncSession, viewer: Viewer, rule: access.Viewer, now: datetime) -> list[Item]:
    """Orders someone has not acknowledged, of an incident still open (or of none): the receipts
    of a closed incident are its final report's business, not the board's."""
    unacked = select(Receipt.order_id).where(Receipt.acked_at.is_(None))
    live = select(Incident.id).where(Incident.status == "open")
    query = select(Order).where(Order.id.in_(unacked), or_(Order.incident_id.is_(None), Order.incident_id.in_(live)))
    if not rule.sees_every_incident:
        mine = select(Receipt.order_id).where(Receipt.user_id == viewer.user_id)
        followed = live.where(_participant(viewer.user_id))
        query = query.where(or_(Order.issued_by == viewer.user_id, Order.id.in_(mine), Order.incident_id.in_(followed)))
    query = query.order_by(Order.created_at.desc(), Order.id.desc()).limit(LIMIT * 4)
    found = (await access.visible_orders(session, await session.scalars(query), rule))[:LIMIT]
    if not found:
        return []
    pending = await session.execute(
        select(Receipt.order_id, Receipt.user_id)
        .where(Receipt.order_id.in_([o.id for o in found]), Receipt.acked_at.is_(None))
        .order_by(Receipt.id)
    )
    waiting: dict[int, list[str]] = {}
    for order_id, user in pending.tuples():
        waiting.setdefault(order_id, []).append(user)
    minutes = await _ack_minutes(session, found)
    lang = viewer.lang
    group = tr("board.em.orders", lang)
    items = []
    for order in found:
        people = waiting.get(order.id, [])
        due = as_utc(order.created_at) + timedelta(minutes=minutes.get(order.id, 0)) if order.id in minutes else None
        actions: tuple[Action, ...] = ()
        if viewer.user_id in people:
            actions = (Action("ack", order.code, tr("board.em.act_ack", lang)),)
        lines = (tr("board.em.unacked", lang, people=_join(people, lang), count=len(people)),)
        late = due is not None and now > due
        items.append(
            Item(ref=order.code, title=order.text, lines=lines, late=late, due=due, actions=actions, group=group)
        )
    return items


async def _ack_minutes(session: AsyncSession, found: Sequence[Order]) -> dict[int, int]:
    """How long each order's recipients have to acknowledge (its incident's rule; none without)."""
    ids = {o.incident_id for o in found if o.incident_id is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Incident.id, Incident.ack_minutes).where(Incident.id.in_(ids)))
    by_incident = dict(rows.tuples().all())
    return {o.id: by_incident[o.incident_id] for o in found if o.incident_id in by_incident}


async def emergency_section(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    rule = await emergency_viewer(session, viewer, now)
    items = [*await _incidents(session, viewer, rule, now), *await _orders(session, viewer, rule, now)]
    return Section(
        key="emergency",
        title=tr("board.em.title", viewer.lang),
        items=tuple(items),
        lines=await _recent(session, viewer, rule, now),
        empty=tr("board.em.empty", viewer.lang),
    )


async def _handover_line(session: AsyncSession, starts_at: datetime, lang: str) -> str:
    item = await session.scalar(
        select(Handover).where(Handover.created_at >= starts_at - HANDOVER_EARLY).order_by(Handover.id.desc()).limit(1)
    )
    if item is None:
        return tr("board.duty.handover_none", lang)
    if item.acked_at is None:
        return tr("board.duty.handover_open", lang, user=item.from_user)
    return tr("board.duty.handover_done", lang, user=item.from_user, by=item.acked_by or "")


async def duty_section(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    """Who is on duty is what `!值班` tells anyone; the hand-over's notes stay in chat."""
    lang = viewer.lang
    shift = await roster.shift_at(session, now)
    lines: tuple[str, ...] = ()
    if shift is not None:
        span = tr(
            "board.duty.span",
            lang,
            start=format_when(as_utc(shift.starts_at), tz=viewer.tz, lang=lang, now=now),
            end=format_when(as_utc(shift.ends_at), tz=viewer.tz, lang=lang, now=now),
        )
        lines = (
            span,
            tr("board.duty.leader", lang, user=shift.leader or tr("board.duty.nobody", lang)),
            tr("board.duty.officers", lang, people=_join(shift.officers or [], lang) or tr("board.duty.nobody", lang)),
            await _handover_line(session, as_utc(shift.starts_at), lang),
        )
    return Section(key="duty", title=tr("board.duty.title", lang), lines=lines, empty=tr("board.duty.empty", lang))


async def duty_leader_now(session: AsyncSession, now: datetime) -> str | None:
    """Who leads the shift on duty at ``now`` (the briefing's duty leader), if anyone."""
    shift = await roster.shift_at(session, now)
    return shift.leader if shift is not None else None
