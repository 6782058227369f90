"""Phone numbers from the duty roster: kept per person, shown beside their name where someone
must reach them (order and late-report escalations, `!值班`). On a frozen clock, read back
from the outbox as the person would read them."""

from __future__ import annotations

from datetime import timedelta

from emergency import incidents, orders, reports, roster
from emergency.grammar import phones_after_people
from records import people
from records.clock import FrozenClock
from records.db import Database
from records.models import Person
from tests.emergency.test_emergency_chat import LEADER, OFFICER, STRANGER, Chat
from tests.emergency.test_emergency_clocks import T0, declare, outbox_bodies, pump

TZ = "Asia/Shanghai"
# T0 is Wednesday 2026-11-25 10:00 in Shanghai.
CSV = (
    "date,start,end,leader,officers,电话\n"
    "2026-11-25,08:00,20:00,leader,b;c,13800000000；b=139-0000-0000\n"
    "2026-11-25,20:00,08:00,leader,c,\n"
)


async def _import(db: Database, text: str, server: str) -> None:
    parsed = roster.parse_roster_csv(text, tz=TZ, default_server=server, today=T0.date())
    assert not parsed.errors, parsed.errors
    async with db.transaction() as s:
        await roster.import_roster(s, parsed, actor="@leader:x", clock=FrozenClock(T0))


def test_a_bad_phone_or_one_of_nobody_is_named_with_its_line() -> None:
    text = (
        "date,start,end,leader,officers,phone\n"
        "2026-11-25,08:00,12:00,leader,b,call me\n"
        "2026-11-25,12:00,16:00,leader,b,wang=13800000000\n"
        "2026-11-25,16:00,20:00,,b,13800000000\n"
    )
    parsed = roster.parse_roster_csv(text, tz=TZ, default_server="x", today=T0.date())
    assert [(e.line, e.key, e.column) for e in parsed.errors] == [
        (2, "em.csv.bad_phone", "phone"),
        (3, "em.csv.phone_who", "phone"),
        (4, "em.csv.phone_who", "phone"),  # no leader: whose is a bare number?
    ]


async def test_the_roster_keeps_each_persons_phone(db: Database) -> None:
    await _import(db, CSV, "x")
    async with db.reading() as s:
        assert await people.phones(s, ["@leader:x", "@b:x", "@c:x"]) == {
            "@leader:x": "13800000000",
            "@b:x": "13900000000",
        }


async def test_the_commander_told_of_a_silent_recipient_gets_their_phone(db: Database) -> None:
    await _import(db, CSV, "x")
    async with db.transaction() as s:
        (await s.get(Person, "@b:x")).display_name = "王科长"  # type: ignore[union-attr]
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 2)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        await reports.file_report(s, incident, kind="first", fields={}, actor="@o:x", clock=clock)
        plan = orders.NagPlan(incident.ack_minutes, 2, 3, ())
        await orders.issue(
            s, actor="@leader:x", recipients=["@b:x"], text="到泵站集合", room_id="!incident:x",
            plan=plan, clock=clock, incident=incident,
        )  # fmt: skip
    clock.advance(timedelta(minutes=10))
    await pump(db, clock)
    clock.advance(timedelta(minutes=10))
    await pump(db, clock)  # the second nag: the commander is told
    sent = await outbox_bodies(db)
    told = [body for _, to, body in sent if to == "@leader:x"]
    assert len(told) == 1 and "王科长（139 0000 0000） 在 20 分钟内未确认指令 O1" in told[0], told
    room = [body for where, _, body in sent if where == "!incident:x" and "未确认指令" in body]
    assert room == ["⚠️ 王科长（139 0000 0000） 在 20 分钟内未确认指令 O1，已告知指挥长。"]


async def test_the_duty_leader_told_of_a_late_report_can_call_the_commander(db: Database) -> None:
    await _import(db, CSV, "x")
    async with db.transaction() as s:
        await people.keep_phones(s, {"@zhao:x": "13700000000"})
        (await s.get(Person, "@zhao:x")).display_name = "赵处长"  # type: ignore[union-attr]
    clock = FrozenClock(T0)
    incident_id = await declare(db, clock, 2)
    async with db.transaction() as s:
        incident = await incidents.get(s, incident_id)
        await incidents.set_role(
            s, incident, role_word="commander", users=["@zhao:x"], actor="@leader:x", office_roles=set(), clock=clock
        )
    clock.advance(timedelta(minutes=30))
    await pump(db, clock)
    clock.advance(timedelta(minutes=30))
    await pump(db, clock)
    told = [body for _, to, body in await outbox_bodies(db) if to == "@leader:x"]
    assert "🔴 E1 城东内涝 的首报已到时限，尚未报送。请联系指挥长：赵处长（137 0000 0000）。" in told, told
    assert "🔴 迟报：E1 城东内涝 的首报已超时 30 分钟未报送。请联系指挥长：赵处长（137 0000 0000）。" in told, told


async def test_duty_shows_whom_to_call_and_setting_a_shift_names_people(db: Database) -> None:
    await _import(db, CSV.replace("leader,b;c,13800000000；b=139-0000-0000", "leader,officer,13800000000"), "localhost")
    async with db.transaction() as s:
        (await s.get(Person, LEADER)).display_name = "张主任"  # type: ignore[union-attr]
        s.add(Person(user_id=OFFICER, display_name="李值班", roles=[], created_at=T0))
    chat = Chat(db, FrozenClock(T0))
    shown = await chat.reply_to(STRANGER, "!值班")
    assert "带班领导 张主任（138 0000 0000）；值班员 李值班" in shown, shown
    done = await chat.reply_to(LEADER, f"!值班 设置 明天 带班 {LEADER} 值班员 {OFFICER}")
    assert "带班领导 张主任（138 0000 0000），值班员 李值班" in done and "@" not in done, done


def test_a_number_after_a_person_in_duty_set_is_their_phone() -> None:
    text = "明天 带班 @zhang:x 138-0000-0000 值班员 @li:x @wang:x +8613900000000 次日"
    assert phones_after_people(text) == {"@zhang:x": "13800000000", "@wang:x": "+8613900000000"}


async def test_duty_set_keeps_the_phones_it_is_given(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    done = await chat.reply_to(LEADER, f"!值班 设置 今天0:00 至 23:59 带班 {LEADER} 13800000000 值班员 {OFFICER}")
    assert "带班领导 leader（138 0000 0000），值班员 officer" in done, done
    assert "（138 0000 0000）" in await chat.reply_to(STRANGER, "!值班")
    async with db.reading() as s:
        assert await people.phones(s, [LEADER, OFFICER]) == {LEADER: "13800000000"}


async def test_with_no_shift_the_configured_duty_people_show_their_phones(db: Database) -> None:
    async with db.transaction() as s:
        await people.keep_phones(s, {LEADER: "13800000000"})
    shown = await Chat(db, FrozenClock(T0)).reply_to(STRANGER, "!值班")
    assert "按配置的值班角色：带班领导 leader（138 0000 0000）；值班员 officer" in shown, shown
