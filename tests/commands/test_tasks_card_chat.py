"""A task you can see: the card follows every change, `!task T7` shows where it stands, finished
tasks can be listed, and a bare-date deadline is the end of the working day.

Through the real dispatcher (tests.support.dispatch_chat) on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.tasks.models import Task
from notifications.names import Names
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage
from records.timers import TimerPump, run_timer
from tests.support.dispatch_chat import DispatchChat
from zhiban.app import build_timers

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
LEAD = "@lead:localhost"
EVE = "@eve:localhost"


def _card_edit(sent: list[OutboxMessage], card: OutboxMessage) -> str:
    """The new text of the card, from the one edit among `sent` that replaces it."""
    edits = [r for r in sent if r.relation == "m.replace" and r.relates_to_outbox_id == card.id]
    assert len(edits) == 1, [r.content.get("body") for r in sent]
    assert edits[0].room_id == ROOM and edits[0].to_user is None
    return str(edits[0].content["m.new_content"]["body"])


async def _assign(chat: DispatchChat, due: str = "明天") -> tuple[str, OutboxMessage]:
    [card] = [r for r in await chat.say(BOSS, f"!督办 整理会议纪要 {LEAD} 截止 {due}") if r.room_id == ROOM]
    body = str(card.content["body"])
    assert body.startswith("📌 督办 T"), body
    return body.split("督办 ", 1)[1].split("：", 1)[0], card


async def test_the_card_follows_every_change_and_the_task_can_be_looked_up(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    code, card = await _assign(chat)
    assert "状态：办理中 · 进度 0%" in str(card.content["body"])

    clock.advance(timedelta(hours=1))
    edited = _card_edit(await chat.say(LEAD, f"!进展 {code} 50% 初稿已完成"), card)
    assert "进度 50%" in edited and edited.startswith(f"📌 督办 {code}")
    assert "初稿已完成" not in edited  # the room sees where it stands, not what the owners wrote

    edited = _card_edit(await chat.say(LEAD, f"!完成 {code} 纪要已上传"), card)
    assert "待办结" in edited and "进度 100%" in edited

    clock.advance(timedelta(hours=1))
    edited = _card_edit(await chat.say(BOSS, f"!办结 {code}"), card)
    assert "状态：✅ 已办结（11月23日（周一）12:00）" in edited

    shown = await chat.reply_to(LEAD, f"!督办 {code}")
    assert shown.startswith(f"📌 督办 {code}") and "状态：✅ 已办结" in shown and "最新进展：纪要已上传" in shown
    assert "交办时间：11月23日（周一）10:00" in shown
    assert f"11月23日（周一）11:00 {LEAD} 报告进度 50%：初稿已完成" in shown
    assert f"{LEAD} 提交完成：纪要已上传" in shown and f"11月23日（周一）12:00 {BOSS} 确认办结" in shown

    # Accepted work leaves the default list, which says where to find it.
    mine = await chat.reply_to(LEAD, "!督办列表")
    assert code not in mine and "!督办列表 已办结" in mine
    finished = (await chat.reply_to(LEAD, "!督办列表 已办结")).splitlines()
    assert finished[0] == "已办结的督办事项（最近办结的在前）："
    assert finished[1].startswith(f"{code}「整理会议纪要」（牵头）") and "已办结 11月23日（周一）12:00" in finished[1]
    assert code in await chat.reply_to(BOSS, "!tasks done")

    # Need to know: someone not on the task sees neither it nor its history.
    assert "没有找到督办事项" in await chat.reply_to(EVE, f"!督办 {code}")
    assert code not in await chat.reply_to(EVE, "!督办列表 已办结")


async def test_sending_back_and_an_extension_show_on_the_card(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    code, card = await _assign(chat, "3天后")
    edited = _card_edit(await chat.say(LEAD, f"!延期 {code} 5天后 需要会签"), card)
    assert f"⏳ {Names().of(LEAD)} 申请延期至 11月28日（周六）10:00" in edited  # by name, not the Matrix ID
    edited = _card_edit(await chat.say(BOSS, f"!同意延期 {code}"), card)
    assert "期限：11月28日（周六）10:00" in edited and "申请延期" not in edited
    await chat.say(LEAD, f"!完成 {code} 已上传")
    edited = _card_edit(await chat.say(BOSS, f"!退办 {code} 缺少附件"), card)
    assert "状态：办理中" in edited and "缺少附件" not in edited


async def test_a_bare_date_deadline_is_the_end_of_the_working_day(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM, tasks={"end_of_day": "17:30"})
    code, card = await _assign(chat, "明天")
    assert "期限：11月24日（周二）17:30（下班前）" in str(card.content["body"])
    async with db.reading() as session:
        task = await session.get(Task, int(code[1:]))
        assert task is not None and task.due_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    # "截止 今天" at 10:00 is today at the end of the day, not a time already past.
    today, _ = await _assign(chat, "今天")
    # A clock time given is kept; an extension to a bare date is that day's end too.
    at_three, _ = await _assign(chat, "明天下午3点")
    await chat.say(LEAD, f"!延期 {code} 周五 需要会签")
    async with db.reading() as session:
        first = await session.get(Task, int(today[1:]))
        assert first is not None and first.due_at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
        third = await session.get(Task, int(at_three[1:]))
        assert third is not None and third.due_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
        task = await session.get(Task, int(code[1:]))
        assert task is not None and task.ext_due_at == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


async def test_the_default_end_of_day_is_1800_in_english_too(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    await chat.say(BOSS, "!lang en")
    [card] = [r for r in await chat.say(BOSS, f"!task new Write minutes {LEAD} by tomorrow") if r.room_id == ROOM]
    assert "Due: Tue 24 Nov 18:00 (end of the working day)" in str(card.content["body"])


async def test_the_card_turns_red_when_the_deadline_passes(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    code, card = await _assign(chat, "2小时后")
    registry = build_timers(Settings())
    ran: list[int] = []

    async def run(timer_id: int) -> None:
        ran.append(timer_id)
        assert await run_timer(db, timer_id, registry, clock) == "done"

    pump = TimerPump(db, clock, run)
    clock.advance(timedelta(hours=2, minutes=1))
    await pump.pump_once()
    async with db.reading() as session:
        edits = list(
            await session.scalars(
                select(OutboxMessage).where(
                    OutboxMessage.relates_to_outbox_id == card.id, OutboxMessage.relation == "m.replace"
                )
            )
        )
    assert ran and edits, "the overdue timer edits the card"
    assert "状态：🔴 已超期 · 进度 0%" in str(edits[-1].content["m.new_content"]["body"])
    assert code in str(edits[-1].content["m.new_content"]["body"])
