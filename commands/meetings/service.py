"""Meetings (会议): scheduling, RSVP, changes, reminders and sign-in.

Every change is audited in the caller's transaction and tells the people concerned through
the outbox (and a push). Only the organizer (or an admin) changes, cancels or ends a meeting;
only invited people (and their deputies) answer. Minutes and actions live in minutes.py, clashes
in conflicts.py.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.meetings import notices, render
from commands.meetings.models import (
    ATTEND,
    CANCELLED,
    DEPUTY,
    LEAVE,
    PENDING,
    SCHEDULED,
    Attendee,
    Meeting,
)
from commands.meetings.policy import MeetingPolicy
from records import audit, timers
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound

REMIND = "meeting.remind"
CHECKIN = "meeting.checkin"
MISSING = "meeting.missing"

_CODE = re.compile(r"^[Mm](\d{1,12})$")


def parse_code(code: str) -> int:
    match = _CODE.match(code.strip())
    if match is None:
        raise DomainError("meeting.bad_code", code=code.strip()[:20])
    return int(match.group(1))


def timer_prefix(meeting: Meeting) -> str:
    # The trailing colon keeps M3's prefix from matching M30's timers.
    return f"meeting:{meeting.code}:"


async def get_meeting(session: AsyncSession, meeting_id: int) -> Meeting:
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFound("meeting.not_found", code=f"M{meeting_id}")
    return meeting


async def attendees_of(session: AsyncSession, meeting_id: int) -> list[Attendee]:
    rows = await session.scalars(select(Attendee).where(Attendee.meeting_id == meeting_id).order_by(Attendee.id))
    return list(rows)


async def _with_attendees(session: AsyncSession, meeting_id: int) -> tuple[Meeting, list[Attendee] | None]:
    """The meeting and every answer to it, in one query (an answer's card shows them all)."""
    found = await session.execute(
        select(Meeting, Attendee)
        .outerjoin(Attendee, Attendee.meeting_id == Meeting.id)
        .where(Meeting.id == meeting_id)
        .order_by(Attendee.id)
    )
    rows = found.tuples().all()
    if not rows:
        raise NotFound("meeting.not_found", code=f"M{meeting_id}")
    return rows[0][0], [row for _, row in rows if row is not None]


async def attendee(session: AsyncSession, meeting_id: int, user: str) -> Attendee | None:
    return await session.scalar(select(Attendee).where(Attendee.meeting_id == meeting_id, Attendee.user_id == user))


def check_room(meeting: Meeting, room_id: str, *, is_dm: bool) -> None:
    """A meeting is handled in its own room (or in a DM with the bot), never from another room."""
    if not is_dm and meeting.room_id != room_id:
        raise NotAllowed("meeting.other_room", code=meeting.code)


def _require_manager(meeting: Meeting, actor: str, is_admin: bool) -> None:
    if actor != meeting.organizer and not is_admin:
        raise NotAllowed("meeting.not_organizer", code=meeting.code)


def _require_open(meeting: Meeting) -> None:
    if meeting.status != SCHEDULED:
        raise DomainError(f"meeting.already_{meeting.status}", code=meeting.code)


# -- scheduling ----------------------------------------------------------------------------
async def create_meeting(
    session: AsyncSession,
    *,
    organizer: str,
    title: str,
    starts_at: datetime,
    place: str | None,
    attendees: list[str],
    room_id: str,
    policy: MeetingPolicy,
    clock: Clock,
    lang: str = "zh",
    tz: str = "Asia/Shanghai",
    ends_at: datetime | None = None,
) -> Meeting:
    """Store the meeting, post the card in the room, DM each attendee and schedule the timers.

    `place` must already be resolved (policy.resolve_place); conflicts are the caller's to
    show before calling (find_conflicts) — here they no longer stop anything.
    """
    title = title.strip()
    if not title:
        raise DomainError("meeting.no_title")
    now = clock.now()
    if starts_at <= now:
        raise DomainError("meeting.in_past")
    meeting = Meeting(
        title=title[:2000],
        organizer=organizer,
        room_id=room_id,
        starts_at=starts_at,
        ends_at=ends_at or starts_at + policy.duration,
        place=place,
        status=SCHEDULED,
        revision=0,
        lang=lang,
        tz=tz,
        created_at=now,
        updated_at=now,
    )
    session.add(meeting)
    await session.flush()
    people = list(dict.fromkeys(attendees))
    rows = [Attendee(meeting_id=meeting.id, user_id=user, response=PENDING) for user in people]
    session.add_all(rows)
    await session.flush()
    await audit.record(
        session,
        actor=organizer,
        action="meeting.create",
        subject=meeting.code,
        data={
            "title": meeting.title,
            "starts_at": starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "place": place,
            "attendees": people,
            "room": room_id,
        },
        clock=clock,
    )
    await notices.post_card(session, meeting, rows, now)
    for user in people:
        await notices.tell(session, meeting, user, "meeting.notice_dm", clock, ref=notices.notice_ref(meeting.id, user))
    await schedule_timers(session, meeting, policy, clock)
    return meeting


async def schedule_timers(session: AsyncSession, meeting: Meeting, policy: MeetingPolicy, clock: Clock) -> None:
    """(Re)schedule the reminders, the sign-in and the missing list; past ones are skipped."""
    now = clock.now()
    prefix = timer_prefix(meeting)
    await timers.cancel_prefix(session, prefix)
    payload = {"meeting_id": meeting.id, "revision": meeting.revision}
    for minutes in policy.remind_before:
        due = meeting.starts_at - timedelta(minutes=minutes)
        if due > now:
            await timers.schedule(
                session, REMIND, due, {**payload, "minutes": minutes}, key=f"{prefix}remind:{minutes}", clock=clock
            )
    opens = max(now, meeting.starts_at - policy.checkin_opens)
    closes = meeting.starts_at + policy.checkin_closes
    await timers.schedule(
        session, CHECKIN, opens, {**payload, "closes_at": closes.isoformat()}, key=f"{prefix}checkin", clock=clock
    )
    await timers.schedule(
        session, MISSING, meeting.starts_at + policy.missing_after, payload, key=f"{prefix}missing", clock=clock
    )


# -- answers (RSVP) --------------------------------------------------------------------------
async def _answering(session: AsyncSession, meeting_id: int, user: str) -> tuple[Meeting, Attendee]:
    meeting = await get_meeting(session, meeting_id)
    _require_open(meeting)
    row = await attendee(session, meeting_id, user)
    if row is None:
        raise NotAllowed("meeting.not_invited", code=meeting.code)
    return meeting, row


async def respond(
    session: AsyncSession, meeting_id: int, user: str, response: str, clock: Clock, *, reason: str | None = None
) -> tuple[Meeting, Attendee]:
    """✅ attend or ❌ leave (请假); the card's tally is edited in place."""
    if response not in (ATTEND, LEAVE):
        raise ValueError("respond() takes attend or leave; deputies go through appoint_deputy()")
    meeting, rows = await _with_attendees(session, meeting_id)
    _require_open(meeting)
    row = next((r for r in rows or [] if r.user_id == user), None)
    if row is None:
        raise NotAllowed("meeting.not_invited", code=meeting.code)
    previous = row.response
    if previous == DEPUTY and row.deputy:
        await _drop_deputy(session, meeting, row.deputy)
        row.deputy = None
        rows = None  # one row fewer: read again
    row.response = response
    row.reason = ((reason or "").strip()[:500] or None) if response == LEAVE else None
    row.responded_at = clock.now()
    await audit.record(
        session,
        actor=user,
        action=f"meeting.{response}",
        subject=meeting.code,
        data={"from": previous, "reason": row.reason},
        clock=clock,
    )
    await _after_answer(session, meeting, clock, rows)
    return meeting, row


async def set_leave_reason(session: AsyncSession, meeting_id: int, user: str, reason: str, clock: Clock) -> Meeting:
    """The reason asked for after ❌ (the leave itself counted at once)."""
    meeting, row = await _answering(session, meeting_id, user)
    if row.response != LEAVE:
        raise DomainError("meeting.not_on_leave", code=meeting.code)
    row.reason = reason.strip()[:500] or None
    await audit.record(
        session,
        actor=user,
        action="meeting.leave_reason",
        subject=meeting.code,
        data={"reason": row.reason},
        clock=clock,
    )
    await _after_answer(session, meeting, clock)
    if meeting.organizer != user:
        await notices.tell(session, meeting, meeting.organizer, "meeting.leave_dm", clock, user=user, reason=row.reason)
    return meeting


async def appoint_deputy(
    session: AsyncSession, meeting_id: int, user: str, deputy: str, clock: Clock
) -> tuple[Meeting, Attendee]:
    """🔁 `!deputy M3 @x`: x goes instead of the user, is invited, and gets the notice."""
    meeting, row = await _answering(session, meeting_id, user)
    if deputy == user:
        raise DomainError("meeting.deputy_self")
    existing = await attendee(session, meeting_id, deputy)
    if existing is not None and existing.deputy_for != user:
        raise DomainError("meeting.deputy_already_invited", user=deputy, code=meeting.code)
    if row.deputy and row.deputy != deputy:
        await _drop_deputy(session, meeting, row.deputy)
    row.response, row.deputy, row.reason, row.responded_at = DEPUTY, deputy, None, clock.now()
    if existing is None:
        existing = Attendee(meeting_id=meeting.id, user_id=deputy, response=PENDING, deputy_for=user)
        session.add(existing)
        await session.flush()
        await notices.tell(
            session, meeting, deputy, "meeting.deputy_dm", clock, ref=notices.notice_ref(meeting.id, deputy), user=user
        )
    await audit.record(
        session, actor=user, action="meeting.deputy", subject=meeting.code, data={"deputy": deputy}, clock=clock
    )
    await _after_answer(session, meeting, clock)
    return meeting, existing


async def _drop_deputy(session: AsyncSession, meeting: Meeting, deputy: str) -> None:
    row = await attendee(session, meeting.id, deputy)
    if row is not None and row.deputy_for is not None:
        await session.delete(row)
        await session.flush()


async def _after_answer(
    session: AsyncSession, meeting: Meeting, clock: Clock, rows: list[Attendee] | None = None
) -> None:
    """The card shows the answers (`rows`: all of them as the caller holds them, else read)."""
    meeting.updated_at = clock.now()
    rows = rows if rows is not None else await attendees_of(session, meeting.id)
    await notices.refresh_card(session, meeting, rows, clock.now())


# -- changes by the organizer --------------------------------------------------------------
def _everyone(meeting: Meeting, rows: list[Attendee]) -> list[str]:
    return list(dict.fromkeys([*(r.user_id for r in rows), meeting.organizer]))


async def move_meeting(
    session: AsyncSession,
    meeting_id: int,
    actor: str,
    starts_at: datetime,
    *,
    policy: MeetingPolicy,
    clock: Clock,
    is_admin: bool = False,
) -> Meeting:
    """Change the time (keeping the length), reschedule the timers, tell everyone."""
    meeting = await get_meeting(session, meeting_id)
    _require_manager(meeting, actor, is_admin)
    _require_open(meeting)
    if starts_at <= clock.now():
        raise DomainError("meeting.in_past")
    old = meeting.starts_at
    length = meeting.ends_at - meeting.starts_at
    meeting.starts_at, meeting.ends_at = starts_at, starts_at + length
    meeting.checkin_code = None
    meeting.revision += 1
    meeting.updated_at = clock.now()
    await audit.record(
        session,
        actor=actor,
        action="meeting.move",
        subject=meeting.code,
        data={"from": old.isoformat(), "to": starts_at.isoformat()},
        clock=clock,
    )
    await schedule_timers(session, meeting, policy, clock)
    rows = await attendees_of(session, meeting.id)
    await notices.refresh_card(session, meeting, rows, clock.now())
    await notices.post(session, meeting, "meeting.moved_room", clock, old=old)
    await notices.tell_all(session, meeting, [r.user_id for r in rows], "meeting.moved_dm", clock, old=old)
    return meeting


async def change_place(
    session: AsyncSession,
    meeting_id: int,
    actor: str,
    place: str,
    *,
    policy: MeetingPolicy,
    clock: Clock,
    is_admin: bool = False,
) -> Meeting:
    meeting = await get_meeting(session, meeting_id)
    _require_manager(meeting, actor, is_admin)
    _require_open(meeting)
    resolved = policy.resolve_place(place)
    if resolved is None:
        raise DomainError("meeting.no_place")
    old = render.place_of(meeting, meeting.lang)
    meeting.place = resolved
    meeting.revision += 1
    meeting.updated_at = clock.now()
    await audit.record(
        session,
        actor=actor,
        action="meeting.place",
        subject=meeting.code,
        data={"from": old, "to": resolved},
        clock=clock,
    )
    rows = await attendees_of(session, meeting.id)
    await notices.refresh_card(session, meeting, rows, clock.now())
    await notices.post(session, meeting, "meeting.place_room", clock, old=old)
    await notices.tell_all(session, meeting, [r.user_id for r in rows], "meeting.place_dm", clock, old=old)
    return meeting


async def cancel_meeting(
    session: AsyncSession, meeting_id: int, actor: str, reason: str, *, clock: Clock, is_admin: bool = False
) -> Meeting:
    """Cancel: every timer goes, everyone invited is told (those on leave too)."""
    meeting = await get_meeting(session, meeting_id)
    _require_manager(meeting, actor, is_admin)
    _require_open(meeting)
    meeting.status = CANCELLED
    meeting.cancel_reason = reason.strip()[:500] or None
    meeting.revision += 1
    meeting.updated_at = clock.now()
    await timers.cancel_prefix(session, timer_prefix(meeting))
    await audit.record(
        session,
        actor=actor,
        action="meeting.cancel",
        subject=meeting.code,
        data={"reason": meeting.cancel_reason},
        clock=clock,
    )
    rows = await attendees_of(session, meeting.id)
    await notices.refresh_card(session, meeting, rows, clock.now())
    await notices.post(
        session, meeting, "meeting.cancelled_room", clock, reason=render.reason_suffix(meeting, meeting.lang)
    )
    for user in [r.user_id for r in rows]:
        user_lang, _ = await notices.prefs_for(session, user, meeting)
        reason = render.reason_suffix(meeting, user_lang)
        await notices.tell(session, meeting, user, "meeting.cancelled_dm", clock, reason=reason)
    return meeting


# -- sign-in (签到) --------------------------------------------------------------------------
def new_checkin_code() -> str:
    """Four digits: easy to type on a phone, unknown until the window opens."""
    return f"{secrets.randbelow(10_000):04d}"


async def check_in(
    session: AsyncSession, meeting_id: int, user: str, code: str, *, policy: MeetingPolicy, clock: Clock
) -> tuple[Meeting, Attendee]:
    meeting = await get_meeting(session, meeting_id)
    _require_open(meeting)
    row = await attendee(session, meeting_id, user)
    if row is None:
        raise NotAllowed("meeting.not_invited", code=meeting.code)
    now = clock.now()
    opens = meeting.starts_at - policy.checkin_opens
    closes = meeting.starts_at + policy.checkin_closes
    if now < opens or meeting.checkin_code is None:
        raise DomainError("meeting.checkin_not_open", code=meeting.code, when=opens)
    if now > closes:
        raise DomainError("meeting.checkin_closed", code=meeting.code, when=closes)
    if row.checked_in_at is not None:
        raise DomainError("meeting.checkin_twice", code=meeting.code)
    if code.strip() != meeting.checkin_code:
        await audit.record(session, actor=user, action="meeting.checkin_wrong", subject=meeting.code, clock=clock)
        raise DomainError("meeting.checkin_wrong_code", code=meeting.code)
    row.checked_in_at = now
    if row.response == PENDING:
        row.response, row.responded_at = ATTEND, now
    await audit.record(session, actor=user, action="meeting.checkin", subject=meeting.code, clock=clock)
    return meeting, row


# -- lists ---------------------------------------------------------------------------------
async def upcoming(
    session: AsyncSession, *, now: datetime, room_id: str | None = None, user: str | None = None, limit: int = 20
) -> list[Meeting]:
    """Scheduled meetings not yet over: of a room, or those a person organizes or is invited to."""
    query = select(Meeting).where(Meeting.status == SCHEDULED, Meeting.ends_at > now)
    if room_id is not None:
        query = query.where(Meeting.room_id == room_id)
    if user is not None:
        invited = select(Attendee.meeting_id).where(Attendee.user_id == user)
        query = query.where(or_(Meeting.organizer == user, Meeting.id.in_(invited)))
    return list(await session.scalars(query.order_by(Meeting.starts_at).limit(limit)))
