"""Messages that say the right thing, through the real dispatcher (SQLite and PostgreSQL):
a reminder addressed to a colleague, an alarm confirmed as an alarm, a 或签 step named in
words, and one DM for a rejection.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from commands.approvals import service
from commands.approvals.chain import ANY, StepSpec, parse_chain
from commands.tasks.models import Reminder
from notifications.names import Names
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
REQ, A, B, C = (f"@{n}:localhost" for n in ("req", "a", "b", "c"))


async def _reminders(db: Database) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(Reminder)) or 0)


async def test_a_reminder_for_a_colleague_says_what_reminders_are_for(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    for body in (f"!提醒 {A} 30分钟后 交材料", "!提醒 @li 30分钟后 交材料", "!闹钟 @li 10分钟后 开会"):
        answer = await chat.reply_to(REQ, body)
        assert answer.startswith("⚠️") and "提醒只能设给自己（我）或本群" in answer, answer
        assert "没能理解" not in answer and "!督办" in answer
    await chat.say(A, "!lang en")
    answer = await chat.reply_to(A, f"!remind {B} in 30 minutes call mum")
    assert "Reminders are for yourself (me) or this room (room)" in answer, answer
    assert await _reminders(db) == 0
    # Naming oneself is a reminder for oneself.
    assert (await chat.reply_to(REQ, f"!提醒 {REQ} 30分钟后 交材料")).startswith("⏰ 已设提醒 R")
    assert await _reminders(db) == 1


async def test_an_alarm_is_confirmed_as_an_alarm(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    answer = await chat.reply_to(REQ, "!闹钟 本群 10分钟后 开会")
    assert answer.startswith("🚨 已设闹钟 R") and "响铃时间" in answer and "已设提醒" not in answer, answer
    answer = await chat.reply_to(REQ, "!提醒 我 10分钟后 喝水")
    assert answer.startswith("⏰ 已设提醒 R"), answer
    await chat.say(A, "!lang en")
    answer = await chat.reply_to(A, "!alarm room in 10 minutes stand-up")
    assert answer.startswith("🚨 Alarm R") and "Reminder" not in answer, answer


async def _start(db: Database, clock: FrozenClock, steps: list[StepSpec]) -> str:
    """An approval as `!审批 发起` leaves it (its card posted under the card's ref); how it is
    started from chat is not what these tests are about."""
    async with db.transaction() as session:
        approval = await service.start_approval(
            session, requester=REQ, title="关于防汛物资采购的请示", steps=steps, room_id=ROOM, clock=clock
        )
        await outbox.enqueue(session, outbox.text_content("card"), room_id=ROOM, ref=service.card_ref(approval.id))
        return approval.code


async def test_a_race_loser_is_told_the_step_in_words_not_its_internal_id(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    code = await _start(db, clock, parse_chain(f"{A} | {B} > {C}"))
    early = await chat.reply_to(C, f"!同意 {code}")
    assert "还没到您（第 2 步）" in early and "#" not in early, early
    await chat.say(A, f"!同意 {code} 同意")
    loser = await chat.reply_to(B, f"!同意 {code} 同意")
    assert f"{code} 的第 1 步已由他人处理" in loser and "#" not in loser, loser
    await chat.say(B, "!lang en")
    assert "Step 1 of" in await chat.reply_to(B, f"!approve {code}")


async def test_a_named_step_is_named_in_the_refusal(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    steps = [StepSpec((A, B), ANY, "核稿"), StepSpec((C,), ANY, "签发")]
    code = await _start(db, clock, steps)
    early = await chat.reply_to(C, f"!同意 {code}")
    assert "第 2 步「签发」" in early and "#" not in early, early
    await chat.say(A, f"!同意 {code} 可")
    loser = await chat.reply_to(B, f"!同意 {code} 可")
    assert f"{code} 的第 1 步「核稿」已由他人处理" in loser and "#" not in loser, loser


async def test_a_rejection_sends_the_drafter_one_dm(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = DispatchChat(db, clock, room=ROOM)
    code = await _start(db, clock, parse_chain(f"{A} > {B}"))
    sent = await chat.say(A, f"!驳回 {code} 预算超标")
    to_drafter = [str(r.content["body"]) for r in sent if r.to_user == REQ]
    assert len(to_drafter) == 1, to_drafter
    who = Names().of(A)  # by name, not the Matrix ID (none known: the localpart)
    assert to_drafter[0].startswith(f"❌ 您的审批 {code} 被 {who} 驳回（第1步），审批结束")
    assert "预算超标" in to_drafter[0]
