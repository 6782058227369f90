"""Meetings at the service level, on SQLite and PostgreSQL, with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from commands.meetings import conflicts, minutes, render, service, timers
from commands.meetings.models import ATTEND, DEPUTY, LEAVE, PENDING
from commands.meetings.parsing import parse_new_meeting
from commands.meetings.policy import MeetingPolicy
from commands.meetings.timers import register_timers
from commands.tasks.feature import make_task
from commands.tasks.models import Task
from notifications.names import Names
from records import audit
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.errors import DomainError, NotAllowed
from records.models import OutboxMessage, Timer
from records.timers import TimerPump, TimerRegistry, run_timer

ORG, BOB, CAROL, DAN = "@org:x", "@bob:x", "@carol:x", "@dan:x"
ROOM = "!office:x"
# Wednesday 25 Nov 2026, 10:00 in Shanghai.
START = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
POLICY = MeetingPolicy(places={"三楼会议室": 20, "301": 2})


def _registry() -> TimerRegistry:
    registry = TimerRegistry()
    register_timers(registry, Settings())
    return registry


async def _pump(db: Database, clock: FrozenClock) -> int:
    registry = _registry()

    async def run(timer_id: int) -> None:
        await run_timer(db, timer_id, registry, clock)

    return await TimerPump(db, clock, run).pump_once()


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _new(db: Database, clock: FrozenClock, text: str = "防汛会商 明天下午3点 在 三楼会议室") -> int:
    draft = parse_new_meeting(f"{text} {BOB} {CAROL}", now=clock.now(), tz="Asia/Shanghai")
    async with db.transaction() as session:
        meeting = await service.create_meeting(
            session,
            organizer=ORG,
            title=draft.title,
            starts_at=draft.starts_at or START,
            place=POLICY.resolve_place(draft.place),
            attendees=draft.attendees,
            room_id=ROOM,
            policy=POLICY,
            clock=clock,
        )
        return meeting.id


async def test_create_stores_utc_posts_card_and_dms_and_schedules(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.reading() as session:
        meeting = await service.get_meeting(session, mid)
        # 明天下午3点 in Shanghai is 07:00 UTC on the 26th.
        assert meeting.starts_at == datetime(2026, 11, 26, 7, 0, tzinfo=UTC)
        assert meeting.ends_at - meeting.starts_at == timedelta(minutes=60)
        assert meeting.place == "三楼会议室" and meeting.title == "防汛会商"
        keys = set(await session.scalars(select(Timer.key).where(Timer.status == "pending")))
        assert keys == {f"meeting:M{mid}:{k}" for k in ("remind:1440", "remind:60", "checkin", "missing")}
        history = [e.action for e in await audit.history(session, f"M{mid}")]
        assert history == ["meeting.create"]
    rows = await _outbox(db)
    card = next(r for r in rows if r.ref == f"card:M{mid}")
    assert (
        card.room_id == ROOM
        and "⏳ 未回复 2" in card.content["body"]
        and "11月26日（周四）15:00–16:00" in card.content["body"]
    )
    assert {r.to_user for r in rows if (r.ref or "").startswith(f"notice:M{mid}:")} == {BOB, CAROL}


async def test_past_time_and_unknown_place_are_refused(db: Database) -> None:
    clock = FrozenClock(START)
    with pytest.raises(DomainError) as unknown:
        POLICY.resolve_place("五楼")
    assert unknown.value.key == "meeting.unknown_place"
    assert POLICY.resolve_place("三楼") == "三楼会议室"
    async with db.transaction() as session:
        with pytest.raises(DomainError) as past:
            await service.create_meeting(
                session, organizer=ORG, title="x", starts_at=START - timedelta(hours=1), place=None,
                attendees=[BOB], room_id=ROOM, policy=POLICY, clock=clock,
            )  # fmt: skip
    assert past.value.key == "meeting.in_past"


async def test_conflicts_for_place_people_and_seats(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.reading() as session:
        meeting = await service.get_meeting(session, mid)
        later = meeting.starts_at + timedelta(minutes=30)
        found = await conflicts.find_conflicts(
            session, starts_at=later, ends_at=later + timedelta(hours=1), place="三楼会议室",
            people=[BOB, DAN], policy=POLICY,
        )  # fmt: skip
        assert {(c.kind, c.who) for c in found} == {("place", "三楼会议室"), ("person", BOB)}
        assert all(c.code == f"M{mid}" for c in found)
        seats = await conflicts.find_conflicts(
            session, starts_at=later + timedelta(hours=3), ends_at=later + timedelta(hours=4), place="301",
            people=[BOB, CAROL, DAN], policy=POLICY,
        )  # fmt: skip
        assert [(c.kind, c.seats, c.needed) for c in seats] == [("capacity", 2, 3)]
        assert not await conflicts.find_conflicts(
            session, starts_at=meeting.ends_at, ends_at=meeting.ends_at + timedelta(hours=1), place="三楼会议室",
            people=[BOB], policy=POLICY,
        )  # fmt: skip


async def test_answers_update_the_tally_and_deputies_are_invited(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.respond(session, mid, BOB, ATTEND, clock)
        await service.respond(session, mid, CAROL, LEAVE, clock)
        await service.set_leave_reason(session, mid, CAROL, "出差", clock)
        with pytest.raises(NotAllowed):
            await service.respond(session, mid, DAN, ATTEND, clock)
    async with db.transaction() as session:
        await service.appoint_deputy(session, mid, BOB, DAN, clock)
        rows = {r.user_id: r for r in await service.attendees_of(session, mid)}
        assert rows[BOB].response == DEPUTY and rows[BOB].deputy == DAN
        assert rows[DAN].deputy_for == BOB and rows[DAN].response == PENDING
        assert rows[CAROL].reason == "出差"
        await service.respond(session, mid, DAN, ATTEND, clock)
    edits = [r for r in await _outbox(db) if r.relation == "m.replace"]
    last = edits[-1].content["m.new_content"]["body"]
    assert "✅ 参加 1 · ❌ 请假 1 · 🔁 代会 1 · ⏳ 未回复 0" in last
    bob, carol, dan = (Names().of(who) for who in (BOB, CAROL, DAN))  # by name (none known: the localpart)
    assert f"🔁 {bob} → {dan}" in last and f"❌ {carol}（出差）" in last and f"✅ {dan}（代 {bob}）" in last
    assert f'<a href="https://matrix.to/#/{DAN}">' in edits[-1].content["m.new_content"]["formatted_body"]
    dm = [r for r in await _outbox(db) if r.to_user == DAN]
    assert (
        dm and dm[0].ref == f"notice:M{mid}:{DAN}" and f"https://matrix.to/#/{BOB}" in dm[0].content["formatted_body"]
    )


async def test_reminders_skip_those_on_leave_and_follow_a_move(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.respond(session, mid, CAROL, LEAVE, clock, reason="出差")
    before = len(await _outbox(db))
    clock.set(datetime(2026, 11, 25, 7, 0, tzinfo=UTC))  # a day before
    assert await _pump(db, clock) == 1
    reminded = {r.to_user for r in (await _outbox(db))[before:]}
    assert reminded == {BOB, ORG}
    # Moved by two hours: the one-hour reminder moves with it.
    async with db.transaction() as session:
        meeting = await service.get_meeting(session, mid)
        with pytest.raises(NotAllowed):
            await service.move_meeting(session, mid, BOB, meeting.starts_at, policy=POLICY, clock=clock)
        new_start = meeting.starts_at + timedelta(hours=2)
        await service.move_meeting(session, mid, ORG, new_start, policy=POLICY, clock=clock)
    before = len(await _outbox(db))
    # The day-before reminder is due again, a day before the new time, with the new time.
    clock.set(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    assert await _pump(db, clock) == 1
    clock.set(datetime(2026, 11, 26, 6, 0, tzinfo=UTC))  # an hour before the *old* time
    assert await _pump(db, clock) == 0
    clock.set(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    assert await _pump(db, clock) == 1
    bodies = [r.content["body"] for r in (await _outbox(db))[before:] if r.to_user]
    assert bodies and all("17:00" in b for b in bodies)


async def test_cancel_cancels_every_timer_and_tells_everyone(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.cancel_meeting(session, mid, ORG, "台风", clock=clock)
    async with db.reading() as session:
        statuses = set(await session.scalars(select(Timer.status).where(Timer.key.startswith(f"meeting:M{mid}:"))))
        assert statuses == {"cancelled"}
    told = [r for r in await _outbox(db) if r.to_user and "已取消" in r.content["body"]]
    assert {r.to_user for r in told} == {BOB, CAROL} and "台风" in told[0].content["body"]
    clock.set(datetime(2026, 11, 26, 6, 30, tzinfo=UTC))
    assert await _pump(db, clock) == 0


async def test_sign_in_code_window_and_missing_list(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.respond(session, mid, CAROL, LEAVE, clock, reason="病假")
        meeting = await service.get_meeting(session, mid)
        starts = meeting.starts_at
        with pytest.raises(DomainError) as early:
            await service.check_in(session, mid, BOB, "0000", policy=POLICY, clock=clock)
        assert early.value.key == "meeting.checkin_not_open"
    clock.set(starts - timedelta(minutes=15))
    await _pump(db, clock)
    async with db.reading() as session:
        code = (await service.get_meeting(session, mid)).checkin_code
    assert code is not None and len(code) == 4
    posted = [r for r in await _outbox(db) if r.ref == f"checkin:M{mid}"]
    assert posted and code in posted[0].content["body"]
    async with db.transaction() as session:
        with pytest.raises(DomainError) as wrong:
            await service.check_in(session, mid, BOB, "x" + code, policy=POLICY, clock=clock)
        assert wrong.value.key == "meeting.checkin_wrong_code"
    async with db.transaction() as session:
        _, row = await service.check_in(session, mid, BOB, code, policy=POLICY, clock=clock)
        assert row.checked_in_at == clock.now()
    clock.set(starts + timedelta(minutes=10))
    before = len(await _outbox(db))
    await _pump(db, clock)
    report = [r for r in (await _outbox(db))[before:] if r.to_user == ORG]
    # Carol is on leave, Bob signed in: nobody is missing.
    assert len(report) == 1 and "均已签到" in report[0].content["body"]
    clock.set(starts + timedelta(minutes=31))
    async with db.transaction() as session:
        with pytest.raises(DomainError) as late:
            await service.check_in(session, mid, CAROL, code, policy=POLICY, clock=clock)
        assert late.value.key == "meeting.checkin_closed"


async def test_minutes_actions_become_tasks_and_end_posts_attendance(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.respond(session, mid, CAROL, LEAVE, clock, reason="出差")
        await minutes.add_minute(session, mid, BOB, "汛情通报：水位平稳", clock=clock)
        result = await minutes.add_action(
            session, mid, ORG, BOB, "报送汛情简报", START + timedelta(days=3), clock=clock, make_task=make_task
        )
        with pytest.raises(NotAllowed):
            await minutes.add_action(
                session, mid, BOB, CAROL, "x", START + timedelta(days=3), clock=clock, make_task=make_task
            )
        task = await session.get(Task, result.task.id)
    assert task is not None and task.source == f"M{mid}" and task.lead == BOB
    assert result.item.task_id == result.task.id
    async with db.transaction() as session:
        _, text = await minutes.end_meeting(session, mid, ORG, clock=clock)
    assert "汛情通报：水位平稳" in text and f"{CAROL}（出差）" in text and f"T{result.task.id}" in text
    assert f"**缺席**：{BOB}" in text
    posted = [r for r in await _outbox(db) if r.ref == f"minutes:M{mid}"]
    assert posted and posted[0].room_id == ROOM
    async with db.transaction() as session:
        with pytest.raises(DomainError) as again:
            await minutes.end_meeting(session, mid, ORG, clock=clock)
        assert again.value.key == "meeting.already_ended"


async def test_ics_has_stable_uid_and_sequence(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        meeting = await service.get_meeting(session, mid)
        await service.move_meeting(
            session, mid, ORG, meeting.starts_at + timedelta(hours=1), policy=POLICY, clock=clock
        )
        rows = await service.attendees_of(session, mid)
        data = render.meeting_ics(meeting, rows, now=clock.now(), domain="x")
    event = next(iter(Calendar.from_ical(data).walk("VEVENT")))
    assert str(event["uid"]) == f"meeting-{mid}@x" and int(event["sequence"]) == 1
    assert event.decoded("dtstart") == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert str(event["location"]) == "三楼会议室" and len(event["attendee"]) == 2


def test_timer_kinds_are_registered() -> None:
    registry = _registry()
    assert registry.get(service.REMIND) is timers.fire_reminder
    assert registry.get(service.CHECKIN) is timers.fire_checkin
    assert registry.get(service.MISSING) is timers.fire_missing


async def test_upcoming_lists_a_rooms_meetings_and_a_persons(db: Database) -> None:
    clock = FrozenClock(START)
    mid = await _new(db, clock)
    async with db.transaction() as session:
        await service.create_meeting(
            session, organizer=DAN, title="别的会", starts_at=START + timedelta(hours=3), place=None,
            attendees=[], room_id="!elsewhere:x", policy=POLICY, clock=clock,
        )  # fmt: skip
    async with db.reading() as session:
        assert [m.id for m in await service.upcoming(session, now=clock.now(), room_id=ROOM)] == [mid]
        assert [m.id for m in await service.upcoming(session, now=clock.now(), user=BOB)] == [mid]
        assert [m.title for m in await service.upcoming(session, now=clock.now(), user=DAN)] == ["别的会"]
        later = clock.now() + timedelta(days=3)
        assert await service.upcoming(session, now=later, room_id=ROOM) == []
