"""What the meeting timers do when they fire: remind, open the sign-in, report who is missing.

Each timer carries the meeting's revision at scheduling time; a change of time reschedules
them under the same keys, so a stale one (an older revision) does nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import notices, service
from commands.meetings.models import SCHEDULED, Meeting
from records.clock import Clock
from records.config import Settings
from records.models import Timer
from records.timers import Fired, TimerRegistry


async def _live(session: AsyncSession, timer: Timer) -> Meeting | None:
    meeting = await session.get(Meeting, int(timer.payload.get("meeting_id", 0)))
    if meeting is None or meeting.status != SCHEDULED:
        return None
    if int(timer.payload.get("revision", meeting.revision)) != meeting.revision:
        return None
    return meeting


async def fire_reminder(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Remind everyone still expected (not those on leave or replaced by a deputy), and the organizer."""
    meeting = await _live(session, timer)
    if meeting is None:
        return None
    rows = await service.attendees_of(session, meeting.id)
    people = [r.user_id for r in rows if r.expected]
    declined = {r.user_id for r in rows if not r.expected}
    if meeting.organizer not in people and meeting.organizer not in declined:
        people.append(meeting.organizer)
    await notices.tell_all(session, meeting, people, "meeting.reminder_dm", clock, start=meeting.starts_at)
    return None


async def fire_checkin(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Open the sign-in: make the code now and post it in the room."""
    meeting = await _live(session, timer)
    if meeting is None:
        return None
    meeting.checkin_code = service.new_checkin_code()
    closes = datetime.fromisoformat(str(timer.payload["closes_at"]))
    await notices.post(
        session,
        meeting,
        "meeting.checkin_open",
        clock,
        ref=f"checkin:{meeting.code}",
        pin=meeting.checkin_code,
        until=closes,
    )
    return None


async def fire_missing(session: AsyncSession, timer: Timer, clock: Clock) -> Fired | None:
    """Tell the organizer who has not signed in (and who is on leave or sent a deputy)."""
    meeting = await _live(session, timer)
    if meeting is None:
        return None
    rows = await service.attendees_of(session, meeting.id)
    missing = [r.user_id for r in rows if r.expected and r.checked_in_at is None]
    if missing:
        await notices.tell(
            session,
            meeting,
            meeting.organizer,
            "meeting.missing_dm",
            clock,
            count=len(missing),
            people="、".join(missing),
        )
    else:
        await notices.tell(session, meeting, meeting.organizer, "meeting.all_present_dm", clock)
    return None


def register_timers(registry: TimerRegistry, settings: Settings) -> None:
    registry.register(service.REMIND)(fire_reminder)
    registry.register(service.CHECKIN)(fire_checkin)
    registry.register(service.MISSING)(fire_missing)
