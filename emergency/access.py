"""Need-to-know: the one rule for who may see an incident and what hangs off it.

An incident's title, timeline, orders, reports and final report are shown only to:

- its participants: whoever declared or closed it, its members (the people invited when it was
  declared, and everyone given a role since) and everyone holding one of its roles;
- anyone asking from inside the incident's own room: Matrix only delivers a message from a
  joined member, and that member already reads the card, the orders and the reports posted there,
  so refusing them would protect nothing (this is also why a room admin of the incident room sees
  it, while room admins elsewhere do not);
- the office-wide duty roles and admins (``duty_leader``, ``duty_officer``, ``admin``) and the
  people on the duty roster's current shift, who run every incident. The office role ``leader``
  is not among them: a leader who must follow an incident is given a role in it.

An order (or an alert) is seen by whoever may see its incident, and beyond that by its issuer,
its recipients (their own orders only) and anyone in the room its card was posted in.

Someone the rule does not admit gets exactly the answer for an id that does not exist
(``em.incident.not_found`` / ``em.order.not_found``), so a refusal never confirms a record.
Every read path of the feature goes through here; list commands filter with the same rule. So
does every write that names an incident, an order or a hand-over by id (close, grade, roles,
receipts, ✅): the rule first, then the action's own permission check, so that only someone who
may see the record learns why they may not change it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency import incidents, orders, roster
from emergency.models import Handover, Incident, LogEntry, Order, Receipt
from records.clock import Clock
from records.errors import NotFound
from records.people import RoleBook

#: Office roles that see every incident: the duty roles and the office admin (not room_admin).
OFFICE_VIEW_ROLES = frozenset({"duty_leader", "duty_officer", "admin"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking, and from where: everything the rule needs, looked up once per command."""

    user: str
    room_id: str | None
    office_roles: frozenset[str]
    on_duty: bool

    @property
    def sees_every_incident(self) -> bool:
        return bool(self.office_roles & OFFICE_VIEW_ROLES) or self.on_duty


async def viewer_of(session: AsyncSession, roles: RoleBook, user: str, *, room_id: str | None, clock: Clock) -> Viewer:
    """The viewer `user` asking in `room_id`, with their office roles and whether they are on shift."""
    found: set[str] = await roles.roles_of(session, user)
    on_duty = user in await roster.on_duty(session, clock.now())
    return Viewer(user=user, room_id=room_id, office_roles=frozenset(found), on_duty=on_duty)


def participants(incident: Incident) -> set[str]:
    """Everyone the incident records as taking part in it."""
    people = {incident.declared_by, *(incident.members or [])}
    if incident.closed_by:
        people.add(incident.closed_by)
    for users in (incident.roles or {}).values():
        people.update(users or [])
    return people


def can_see_incident(incident: Incident, viewer: Viewer) -> bool:
    if viewer.sees_every_incident:
        return True
    if viewer.room_id is not None and viewer.room_id == incident.room_id:
        return True
    return viewer.user in participants(incident)


async def can_see_order(session: AsyncSession, order: Order, viewer: Viewer) -> bool:
    if viewer.sees_every_incident or viewer.user == order.issued_by or viewer.room_id == order.room_id:
        return True
    if order.incident_id is not None:
        incident = await session.get(Incident, order.incident_id)
        if incident is not None and can_see_incident(incident, viewer):
            return True
    receipt = await session.scalar(
        select(Receipt.id).where(Receipt.order_id == order.id, Receipt.user_id == viewer.user).limit(1)
    )
    return receipt is not None


def require_visible(incident: Incident, viewer: Viewer) -> Incident:
    """The incident, or the very error an unknown id gets."""
    if not can_see_incident(incident, viewer):
        raise NotFound("em.incident.not_found", id=incident.code)
    return incident


async def visible_incident(session: AsyncSession, incident_id: int, viewer: Viewer) -> Incident:
    """`incidents.get` for a viewer: a hidden incident is answered as a missing one."""
    return require_visible(await incidents.get(session, incident_id), viewer)


async def visible_order(session: AsyncSession, order_id: int, viewer: Viewer) -> Order:
    """`orders.get` for a viewer: a hidden order is answered as a missing one."""
    order = await orders.get(session, order_id)
    if not await can_see_order(session, order, viewer):
        raise NotFound("em.order.not_found", id=order.code)
    return order


def visible_incidents(found: Iterable[Incident], viewer: Viewer) -> list[Incident]:
    return [incident for incident in found if can_see_incident(incident, viewer)]


async def visible_orders(session: AsyncSession, found: Iterable[Order], viewer: Viewer) -> list[Order]:
    return [order for order in found if await can_see_order(session, order, viewer)]


async def can_see_log_entry(session: AsyncSession, entry: LogEntry, viewer: Viewer, *, duty_staff: bool) -> bool:
    """A duty-log line: its recorder and the people it says were told; a line filed in an incident's
    room belongs to that incident and shares its rule (its fields were posted in that room); any
    other line is the duty staff's."""
    if viewer.user == entry.recorded_by or viewer.user in (entry.told or []):
        return True
    if entry.incident_id is not None:
        incident = await session.get(Incident, entry.incident_id)
        if incident is not None:
            return can_see_incident(incident, viewer)
    return duty_staff


def can_see_handover(item: Handover, viewer: Viewer, *, duty_staff: bool) -> bool:
    """A hand-over note is duty business: the duty staff, its writer and its addressees."""
    return duty_staff or viewer.user == item.from_user or viewer.user in (item.to_users or [])


async def visible_handover(session: AsyncSession, handover_id: int, viewer: Viewer, *, duty_staff: bool) -> Handover:
    """The hand-over a ✅ names, for someone who may see it or reacts in the room it was posted in
    (they read it there); anyone else (a ✅ sent from another room on its event id) is answered
    as for a hand-over that does not exist."""
    item = await session.get(Handover, handover_id)
    if item is None or not (viewer.room_id == item.room_id or can_see_handover(item, viewer, duty_staff=duty_staff)):
        raise NotFound("em.handover.not_found", id=f"H{handover_id}")
    return item
