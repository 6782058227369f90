"""Tasks and reminders through the real application wiring, without a homeserver.

Events go through `zhiban.app.build_dispatcher` (every feature's router, the exactly-once
middleware, preferences, roles, the error replies) on SQLite and PostgreSQL; what the bot
would send is read back from the outbox. This is where bad input is checked: each mistake
must get a short bilingual answer with the command's usage, and change nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from commands.tasks.models import Reminder, Task, TaskNote
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, Timer
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
LEAD = "@lead:localhost"
EVE = "@eve:localhost"
ADMIN = "@admin:localhost"  # power level 100 in ROOM


class Chat(DispatchChat):
    """The shared chat harness in ROOM, where ADMIN has power level 100."""

    def __init__(self, db: Database, clock: FrozenClock) -> None:
        super().__init__(db, clock, room=ROOM, power={(ROOM, ADMIN): 100})


async def _state(db: Database) -> tuple[Any, ...]:
    """Everything a refused command must leave untouched."""
    async with db.reading() as session:
        tasks = [(t.id, t.status, t.progress, t.due_at, t.ext_due_at) for t in await session.scalars(select(Task))]
        notes = await session.scalar(select(func.count()).select_from(TaskNote))
        reminders = [(r.id, r.status) for r in await session.scalars(select(Reminder))]
        pending = await session.scalar(select(func.count()).select_from(Timer).where(Timer.status == "pending"))
        audits = await session.scalar(select(func.count()).select_from(AuditEntry))
    return tuple(tasks), notes, tuple(reminders), pending, audits


def _refused(body: str, *usage: str) -> None:
    assert body.startswith("⚠️"), body
    assert "Traceback" not in body
    for part in usage:
        assert part in body, body


async def _new_task(chat: Chat, due: str = "3天后") -> str:
    body = await chat.reply_to(BOSS, f"!督办 整理会议纪要 {LEAD} 截止 {due}")
    assert body.startswith("📌 督办 T"), body
    return body.split("督办 ", 1)[1].split("：", 1)[0]


async def test_bad_input_is_refused_with_usage_and_changes_nothing(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    code = await _new_task(chat)
    before = await _state(db)

    # An unparseable time, for a reminder and for a deadline.
    _refused(await chat.reply_to(BOSS, "!提醒 我 改天有空 交材料"), "!提醒 我|本群")
    _refused(await chat.reply_to(BOSS, f"!督办 写报告 {LEAD} 截止 下辈子"), "!督办 <事项>")
    # A time in the past (it is 10:00): the answer echoes what was understood.
    _refused(await chat.reply_to(BOSS, "!提醒 我 今天上午9点 交材料"), "今天上午9点", "已经过去", "!提醒 我|本群")
    _refused(await chat.reply_to(BOSS, f"!督办 写报告 {LEAD} 截止 今天上午9点"), "已经过去", "!督办 <事项>")
    _refused(await chat.reply_to(LEAD, f"!延期 {code} 今天上午9点 来不及"), "已经过去", "!延期 T7")
    # A task that does not exist, or is someone else's.
    _refused(await chat.reply_to(LEAD, "!进展 T999 50% 在办"), "T999", "!进展 T7")
    _refused(await chat.reply_to(EVE, f"!进展 {code} 50% 我来"), code, "!进展 T7")
    _refused(await chat.reply_to(EVE, f"!完成 {code} 已完成"), code)
    _refused(await chat.reply_to(EVE, f"!督办 {code}"), code)
    _refused(await chat.reply_to(EVE, f"!督办 撤销 {code}"), code)
    _refused(await chat.reply_to(LEAD, f"!督办 撤销 {code}"), "只有", BOSS)  # only the assigner withdraws
    _refused(await chat.reply_to(BOSS, "!cancel R999"), "R999", "!cancel R12")
    # A percentage outside 0–100, or none at all.
    _refused(await chat.reply_to(LEAD, f"!进展 {code}"), "百分比", "!进展 T7 60%")
    for bad in ("120%", "-5%", "百分之五十"):
        _refused(await chat.reply_to(LEAD, f"!progress {code} {bad} note"), "0–100", "!进展 T7 60%")

    assert await _state(db) == before


async def test_english_users_get_english_refusals(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    await chat.say(LEAD, "!lang en")
    code = await _new_task(chat)
    body = await chat.reply_to(LEAD, f"!progress {code} 101% almost")
    _refused(body, "0 to 100", "!progress T7 60% <note>")
    _refused(await chat.reply_to(LEAD, "!remind me someday maybe call mum"), "Could not", "!remind me|room")
    _refused(await chat.reply_to(LEAD, "!remind me 9am today call mum"), "in the past", "!remind me|room")
    _refused(await chat.reply_to(LEAD, "!progress T424242 5%"), "T424242")


async def test_the_assigner_withdraws_a_task_and_its_timers_stop(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    code = await _new_task(chat)
    sent = await chat.say(BOSS, f"!督办 撤销 {code} 已并入其他事项")
    assert [r.content["body"] for r in sent if r.room_id == ROOM and r.relation is None] == [
        f"🗑 已撤销督办 {code}「整理会议纪要」，相关提醒已停止。"
    ]
    [card] = [r for r in sent if r.relation == "m.replace"]  # the card says so too
    assert "已撤销" in card.content["m.new_content"]["body"]
    dm = [r for r in sent if r.to_user == LEAD]
    assert len(dm) == 1 and "已并入其他事项" in dm[0].content["body"]
    async with db.reading() as session:
        task = await session.get(Task, int(code[1:]))
        assert task is not None and task.status == "cancelled"
        pending = await session.scalars(
            select(Timer.key).where(Timer.key.startswith(f"task:{code}:"), Timer.status == "pending")
        )
        assert list(pending) == []
        trail = list(await session.scalars(select(AuditEntry).where(AuditEntry.subject == code)))
        assert [e.action for e in trail][-1] == "task.cancel" and trail[-1].actor == BOSS
    # Gone from every list and command.
    assert "没有符合条件" in await chat.reply_to(BOSS, "!tasks")
    _refused(await chat.reply_to(LEAD, f"!进展 {code} 10%"), code)
    # English form.
    other = await _new_task(chat)
    assert "withdrawn" not in await chat.reply_to(BOSS, f"!task cancel {other}")  # zh user: zh answer
    async with db.reading() as session:
        assert (await session.get(Task, int(other[1:]))).status == "cancelled"  # type: ignore[union-attr]


async def test_tasks_lists_mine_by_deadline_and_the_overdue_ones(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    later = await _new_task(chat, "5天后")
    soon = await _new_task(chat, "2小时后")
    clock.advance(timedelta(hours=3))
    mine = (await chat.reply_to(LEAD, "!tasks")).splitlines()
    assert mine[0] == "您的督办事项（按期限）："
    assert mine[1].startswith(f"🔴{soon}「") and "（牵头）" in mine[1]
    assert mine[2].startswith(f"{later}「")
    overdue = (await chat.reply_to(BOSS, "!督办列表 超期")).splitlines()
    assert overdue[0] == "超期的督办事项：" and len(overdue) == 2 and soon in overdue[1] and "（交办）" in overdue[1]
    assert "没有符合条件" in await chat.reply_to(EVE, "!tasks")


async def test_a_room_admin_cancels_any_room_reminder_but_not_personal_ones(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    [room_echo] = [r for r in await chat.say(EVE, "!提醒 本群 30分钟后 喝茶") if r.room_id == ROOM]
    [own_echo] = [r for r in await chat.say(EVE, "!提醒 我 30分钟后 交材料") if r.room_id == ROOM]
    # Another member may not; the admin may, with ❌ on the reminder's message.
    [no] = await chat.react(LEAD, str(room_echo.event_id), "❌")
    _refused(no.content["body"], "不是您设的")
    [yes] = await chat.react(ADMIN, str(room_echo.event_id), "❌")
    assert yes.content["body"].startswith("🗑 群管理员") and EVE in yes.content["body"]
    # A personal reminder stays its owner's, admin or not.
    [mine] = await chat.react(ADMIN, str(own_echo.event_id), "❌")
    _refused(mine.content["body"], "不是您设的")
    async with db.reading() as session:
        status = dict((r.text, r.status) for r in await session.scalars(select(Reminder)))
        assert status == {"喝茶": "cancelled", "交材料": "active"}
        who = await session.scalar(select(AuditEntry).where(AuditEntry.action == "reminder.cancel"))
        assert who is not None and who.actor == ADMIN and who.data["as"] == "room_admin"
    clock.advance(timedelta(minutes=31))
    async with db.reading() as session:
        due = list(
            await session.scalars(select(Timer.key).where(Timer.status == "pending", Timer.kind == "reminder.fire"))
        )
    assert len(due) == 1  # only the personal one will still ring
