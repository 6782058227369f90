"""Who may see a meeting: the one rule behind every read (show, list, .ics, minutes).

A meeting is seen by its organizer, by everyone invited (an attendee row, which deputies
have too), and by office admins. Being in the room where the card was posted is not enough:
a meeting of a few people may be scheduled from a large room, and its place, time and
minutes stay theirs. Room power level 100 (room_admin) grants nothing here: it is whoever
created a Matrix room, and only office admins manage other people's meetings.

Someone the rule does not admit gets exactly the answer for a meeting that does not exist,
so a refusal never confirms that the record is there.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands import visibility
from commands.meetings.models import Attendee, Meeting
from commands.visibility import is_admin
from records.errors import NotFound


async def can_see(session: AsyncSession, meeting: Meeting, viewer: str, roles: Collection[str]) -> bool:
    if is_admin(roles) or viewer == meeting.organizer:
        return True
    row = await session.scalar(
        select(Attendee.id).where(Attendee.meeting_id == meeting.id, Attendee.user_id == viewer).limit(1)
    )
    return row is not None


def not_found(meeting_id: int) -> NotFound:
    """The error for a missing meeting; a hidden one gets the very same."""
    return NotFound("meeting.not_found", code=f"M{meeting_id}")


async def require_visible(session: AsyncSession, meeting: Meeting, viewer: str, roles: Collection[str]) -> Meeting:
    return await visibility.require(can_see, not_found, session, meeting, viewer, roles)


async def search(
    session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], *, limit: int = 10
) -> list[Meeting]:
    """`!search`: meetings `viewer` may see whose title holds every one of `terms`, latest first.

    The query narrows by the same rule (organizer or invited, unless an admin); `can_see` has
    the last word.
    """
    if not terms:
        return []
    query = select(Meeting).where(*visibility.holds_every(Meeting.title, terms))
    if not is_admin(roles):
        invited = select(Attendee.meeting_id).where(Attendee.user_id == viewer)
        query = query.where(or_(Meeting.organizer == viewer, Meeting.id.in_(invited)))
    query = query.order_by(Meeting.starts_at.desc())
    return await visibility.first_visible(can_see, session, query, viewer, roles, limit=limit)
