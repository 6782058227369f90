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

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings.models import Attendee, Meeting
from records.errors import NotFound
from records.people import Role


async def can_see(session: AsyncSession, meeting: Meeting, viewer: str, roles: Collection[str]) -> bool:
    if Role.ADMIN.value in roles or viewer == meeting.organizer:
        return True
    row = await session.scalar(
        select(Attendee.id).where(Attendee.meeting_id == meeting.id, Attendee.user_id == viewer).limit(1)
    )
    return row is not None


def not_found(meeting_id: int) -> NotFound:
    """The error for a missing meeting; a hidden one gets the very same."""
    return NotFound("meeting.not_found", code=f"M{meeting_id}")


async def require_visible(session: AsyncSession, meeting: Meeting, viewer: str, roles: Collection[str]) -> Meeting:
    if not await can_see(session, meeting, viewer, roles):
        raise not_found(meeting.id)
    return meeting


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    session: AsyncSession, viewer: str, roles: Collection[str], terms: Sequence[str], *, limit: int = 10
) -> list[Meeting]:
    """`!search`: meetings `viewer` may see whose title holds every one of `terms`, latest first.

    The query narrows by the same rule (organizer or invited, unless an admin); `can_see` has
    the last word.
    """
    if not terms:
        return []
    query = select(Meeting).where(
        *(func.lower(Meeting.title).like(f"%{_like_escape(term)}%", escape="\\") for term in terms)
    )
    if Role.ADMIN.value not in roles:
        invited = select(Attendee.meeting_id).where(Attendee.user_id == viewer)
        query = query.where(or_(Meeting.organizer == viewer, Meeting.id.in_(invited)))
    found: list[Meeting] = []
    for meeting in await session.scalars(query.order_by(Meeting.starts_at.desc()).limit(limit * 4)):
        if await can_see(session, meeting, viewer, roles):
            found.append(meeting)
        if len(found) == limit:
            break
    return found
