"""Moving a meeting re-checks clashes (itself excluded); the .ics goes out as an m.file event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import select

from commands.meetings import conflicts, render, service
from commands.meetings.models import LEAVE
from commands.meetings.policy import MeetingPolicy
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage

ORG, BOB, CAROL, DAN = "@org:x", "@bob:x", "@carol:x", "@dan:x"
ROOM = "!office:x"
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday 10:00 in Shanghai
POLICY = MeetingPolicy(places={"三楼会议室": 20, "301": 2})


async def _meeting(
    db: Database, clock: FrozenClock, title: str, at: datetime, place: str | None, who: list[str]
) -> int:
    async with db.transaction() as session:
        meeting = await service.create_meeting(
            session, organizer=ORG if title != "other" else DAN, title=title, starts_at=at, place=place,
            attendees=who, room_id=ROOM, policy=POLICY, clock=clock,
        )  # fmt: skip
        return meeting.id


async def test_move_conflicts_exclude_itself_and_people_on_leave(db: Database) -> None:
    clock = FrozenClock(START)
    tomorrow = START + timedelta(days=1)
    mid = await _meeting(db, clock, "防汛会商", tomorrow, "三楼会议室", [BOB, CAROL])
    other = await _meeting(db, clock, "other", tomorrow + timedelta(hours=3), "三楼会议室", [CAROL])
    async with db.reading() as session:
        meeting = await service.get_meeting(session, mid)
        # Half an hour later overlaps only with itself: nothing to warn about.
        assert await conflicts.move_conflicts(session, meeting, tomorrow + timedelta(minutes=30), policy=POLICY) == []
        clash = await conflicts.move_conflicts(session, meeting, tomorrow + timedelta(hours=3), policy=POLICY)
    assert {(c.kind, c.who, c.code) for c in clash} == {
        ("place", "三楼会议室", f"M{other}"),
        ("person", CAROL, f"M{other}"),
    }
    async with db.transaction() as session:
        await service.respond(session, mid, CAROL, LEAVE, clock, reason="出差")
    async with db.reading() as session:
        meeting = await service.get_meeting(session, mid)
        clash = await conflicts.move_conflicts(session, meeting, tomorrow + timedelta(hours=3), policy=POLICY)
    assert [(c.kind, c.who) for c in clash] == [("place", "三楼会议室")]  # Carol is not coming anyway
    async with db.transaction() as session:
        moved = await service.move_meeting(session, mid, ORG, tomorrow + timedelta(hours=3), policy=POLICY, clock=clock)
        assert moved.starts_at == tomorrow + timedelta(hours=3)  # a clash warns, it does not stop the move


async def test_ics_file_event_goes_through_the_outbox(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _meeting(db, clock, "防汛会商", START + timedelta(days=1), "301", [BOB])
    async with db.transaction() as session:
        meeting = await service.get_meeting(session, mid)
        data = render.meeting_ics(meeting, await service.attendees_of(session, mid), now=clock.now(), domain="x")
        content = render.file_content(f"{meeting.code}.ics", "mxc://x/abc", len(data))
        await outbox.enqueue(session, content, room_id=ROOM)
    async with db.reading() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
    assert row is not None and row.room_id == ROOM
    assert row.content == {
        "msgtype": "m.file",
        "body": f"M{mid}.ics",
        "url": "mxc://x/abc",
        "info": {"mimetype": "text/calendar", "size": len(data)},
    }
    assert next(iter(Calendar.from_ical(data).walk("VEVENT")))["location"] == "301"
