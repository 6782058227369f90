"""Clashes of a meeting: its place taken, someone invited busy, too few seats.

They never stop a meeting by themselves: the handlers show them, and the organizer decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings.models import ATTEND, PENDING, SCHEDULED, Attendee, Meeting
from commands.meetings.policy import MeetingPolicy


@dataclass(frozen=True)
class Conflict:
    """kind: "place" (the place is taken), "person" (someone is busy) or "capacity"."""

    kind: str
    who: str
    code: str = ""
    title: str = ""
    starts_at: datetime | None = None
    seats: int = 0
    needed: int = 0


async def find_conflicts(
    session: AsyncSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    place: str | None,
    people: list[str],
    policy: MeetingPolicy,
    exclude_id: int | None = None,
) -> list[Conflict]:
    """Overlapping scheduled meetings in the same place or with the same people, and seats."""
    found: list[Conflict] = []
    capacity = policy.capacity(place)
    needed = len(dict.fromkeys(people))
    if capacity is not None and needed > capacity:
        found.append(Conflict("capacity", place or "", seats=capacity, needed=needed))
    query = select(Meeting).where(Meeting.status == SCHEDULED, Meeting.starts_at < ends_at, Meeting.ends_at > starts_at)
    if exclude_id is not None:
        query = query.where(Meeting.id != exclude_id)
    overlapping = list(await session.scalars(query.order_by(Meeting.starts_at)))
    if not overlapping:
        return found
    for other in overlapping:
        if place is not None and other.place == place:
            found.append(Conflict("place", place, other.code, other.title, other.starts_at))
    wanted = set(people)
    ids = [m.id for m in overlapping]
    busy_rows = await session.scalars(
        select(Attendee).where(
            Attendee.meeting_id.in_(ids),
            Attendee.user_id.in_(wanted),
            or_(Attendee.response == PENDING, Attendee.response == ATTEND),
        )
    )
    by_id = {m.id: m for m in overlapping}
    busy: dict[str, Meeting] = {}
    for other in overlapping:
        if other.organizer in wanted:
            busy.setdefault(other.organizer, other)
    for row in busy_rows:
        busy.setdefault(row.user_id, by_id[row.meeting_id])
    for user in dict.fromkeys(people):
        if user in busy:
            other = busy[user]
            found.append(Conflict("person", user, other.code, other.title, other.starts_at))
    return found


async def move_conflicts(
    session: AsyncSession, meeting: Meeting, starts_at: datetime, *, policy: MeetingPolicy
) -> list[Conflict]:
    """What clashes with `meeting` at a new start (same length, same place), itself excluded.

    Only people still expected count: the organizer and attendees who have not taken leave or
    sent a deputy (a deputy is an attendee row of their own). Seats are not re-checked: the
    place and the list do not change with the time.
    """
    rows = list(await session.scalars(select(Attendee).where(Attendee.meeting_id == meeting.id).order_by(Attendee.id)))
    people = [r.user_id for r in rows if r.response in (PENDING, ATTEND)]
    found = await find_conflicts(
        session,
        starts_at=starts_at,
        ends_at=starts_at + (meeting.ends_at - meeting.starts_at),
        place=meeting.place,
        people=[meeting.organizer, *people],
        policy=policy,
        exclude_id=meeting.id,
    )
    return [c for c in found if c.kind != "capacity"]
