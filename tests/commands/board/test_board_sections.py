"""Each feature's section of the board, scoped by the rule chat uses (SQLite and PostgreSQL).

A stranger sees none of a record they are not on; its drafter, owner or invitee sees it with
what they may do; an admin sees all; leaders see what is stuck among what they may see.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from commands.approvals.board import approvals_section
from commands.board.service import Board, board_for
from commands.board_section import Viewer
from commands.meetings.board import meetings_section
from commands.push.board import notices_section
from commands.tasks.board import tasks_section
from emergency import incidents, orders, roster
from emergency.board import duty_section, emergency_section
from emergency.policy import Policy
from records.clock import FrozenClock
from records.db import Database
from tests.support.need_to_know import ADMIN, BOSS, MEMBER, STRANGER, TITLES, office_records

SECTIONS = (emergency_section, duty_section, approvals_section, tasks_section, meetings_section, notices_section)
SIGNER = "@signer:localhost"
LEADER = "@leader:localhost"
OFFICER = "@officer:localhost"
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
INCIDENT = "城东内涝紧急转移"


def viewer(user: str, *roles: str, lang: str = "zh") -> Viewer:
    return Viewer(user, frozenset(roles), lang=lang)


async def board(db: Database, who: Viewer, now: datetime) -> Board:
    async with db.transaction() as session:
        return await board_for(session, who, now, SECTIONS)


def titles(made: Board, key: str) -> list[str]:
    section = made.section(key)
    assert section is not None
    return [item.title for item in section.items]


async def declare(session: AsyncSession, clock: FrozenClock) -> int:
    people = incidents.People([LEADER], [OFFICER], [MEMBER])
    incident = await incidents.declare(
        session, actor=OFFICER, grade=2, category="自然灾害", title=INCIDENT, people=people,
        policy=Policy(), clock=clock,
    )  # fmt: skip
    await orders.issue(
        session, actor=LEADER, recipients=[MEMBER], text="立即封闭东区路口", room_id="!incident:localhost",
        plan=orders.NagPlan(incident.ack_minutes, 2, 3, ()), clock=clock, incident=incident,
    )  # fmt: skip
    return incident.id


async def test_a_stranger_sees_nothing_and_those_on_the_records_see_them(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        codes = await office_records(session, clock, first_signer=SIGNER)
        await declare(session, clock)

    stranger = await board(db, viewer(STRANGER, "staff"), T0)
    assert all(not section.items for section in stranger.sections), stranger.as_json()
    assert INCIDENT not in str(stranger.as_json())

    signer = await board(db, viewer(SIGNER, "staff"), T0)
    waiting = signer.section("approvals").items  # type: ignore[union-attr]
    assert [(i.ref, i.title) for i in waiting] == [(codes["approval"], TITLES["approval"])]
    assert [a.kind for a in waiting[0].actions] == ["approve", "reject"]

    drafter = await board(db, viewer(BOSS, "staff"), T0)
    assert titles(drafter, "approvals") == [TITLES["approval"]]
    assert not drafter.section("approvals").items[0].actions  # type: ignore[union-attr]

    member = await board(db, viewer(MEMBER, "staff"), T0)
    assert titles(member, "tasks") == [TITLES["task"]]
    assert [a.kind for a in member.section("tasks").items[0].actions] == ["progress", "done"]  # type: ignore[union-attr]
    assert titles(member, "meetings") == [TITLES["meeting"]]
    meeting = member.section("meetings").items[0]  # type: ignore[union-attr]
    assert [a.kind for a in meeting.actions] == ["rsvp_yes", "rsvp_no"]
    assert "0 人参加，0 人请假，1 人未回复（共 1 人）" in " ".join(meeting.lines)
    assert INCIDENT in titles(member, "emergency")  # a responder, so a member of the incident
    order = [i for i in member.section("emergency").items if i.ref and i.ref.startswith("O")]  # type: ignore[union-attr]
    assert [a.kind for a in order[0].actions] == ["ack"]

    admin = await board(db, viewer(ADMIN, "admin"), T0)
    # An admin is shown an approval they are not on once it is stuck (the next test).
    for key, title in (("meetings", "meeting"), ("tasks", "task")):
        assert TITLES[title] in titles(admin, key)
    assert INCIDENT in titles(admin, "emergency")


async def test_lateness_is_marked_as_the_clock_runs(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=SIGNER)
        await declare(session, clock)

    before = await board(db, viewer(OFFICER, "duty_officer"), T0 + timedelta(minutes=10))
    incident = before.section("emergency").items[0]  # type: ignore[union-attr]
    assert not incident.late and "⏰ 下一份：首报" in " ".join(incident.lines)

    late = await board(db, viewer(OFFICER, "duty_officer"), T0 + timedelta(minutes=45))
    incident = late.section("emergency").items[0]  # type: ignore[union-attr]
    assert incident.late
    assert "🔴 迟报：首报已超时 15分" in " ".join(incident.lines)
    order = late.section("emergency").items[1]  # type: ignore[union-attr]
    assert order.late and MEMBER in " ".join(order.lines)

    overdue = await board(db, viewer(MEMBER, "staff"), T0 + timedelta(days=2, hours=1))
    task = overdue.section("tasks").items[0]  # type: ignore[union-attr]
    assert task.late and "🔴 已超期 1小时" in task.lines


async def test_leaders_see_what_is_stuck_among_what_they_may_see(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await office_records(session, clock, first_signer=LEADER)
    later = T0 + timedelta(hours=25)

    admin = await board(db, viewer(ADMIN, "admin"), later)
    stuck = [i for i in admin.section("approvals").items if i.late]  # type: ignore[union-attr]
    assert [i.title for i in stuck] == [TITLES["approval"]]
    assert f"待办人：{LEADER}" in stuck[0].lines

    early = await board(db, viewer(ADMIN, "admin"), T0 + timedelta(hours=23))
    assert not early.section("approvals").items  # type: ignore[union-attr]

    # A leader on no step of it is not shown it: leaders get no blanket view of approvals.
    other_leader = await board(db, viewer("@fu:localhost", "leader"), later)
    assert not other_leader.section("approvals").items  # type: ignore[union-attr]


async def test_the_duty_section_names_the_shift_and_its_hand_over(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as session:
        await roster.set_shift(
            session, starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=23),
            leader=LEADER, officers=[OFFICER], actor=ADMIN, clock=clock,
        )  # fmt: skip
    made = await board(db, viewer(STRANGER, "staff", lang="en"), T0)
    duty = made.section("duty")
    assert duty is not None
    assert f"Duty leader: {LEADER}" in duty.lines and f"Officers: {OFFICER}" in duty.lines
    assert "Hand-over: not done yet." in duty.lines
    async with db.transaction() as session:
        await roster.hand_over(session, actor=OFFICER, notes="东区积水已退", room_id="!duty:localhost", clock=clock)
    made = await board(db, viewer(STRANGER, "staff"), T0)
    assert f"交接班：{OFFICER} 已交班，待接班确认。" in made.section("duty").lines  # type: ignore[union-attr]
