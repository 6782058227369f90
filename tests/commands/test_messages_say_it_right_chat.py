"""Messages that say the right thing, through the real dispatcher (SQLite and PostgreSQL):
a reminder addressed to a colleague, an alarm confirmed as an alarm, a 或签 step named in
words, and one DM for a rejection.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import func, select

from commands.tasks.models import Reminder
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
REQ, A, B, C, D = (f"@{n}:localhost" for n in ("req", "a", "b", "c", "d"))


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


def _code(card: str) -> str:
    found = re.search(r"\bA\d+", card)
    assert found is not None, card
    return found.group(0)


async def test_a_race_loser_is_told_the_step_in_words_not_its_internal_id(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    answer = await chat.reply_to(REQ, f"!审批 发起 关于防汛物资采购的请示 {A} | {B} > {C}")
    code = _code(answer)
    early = await chat.reply_to(C, f"!同意 {code}")
    assert "还没到您（第 2 步）" in early and "#" not in early, early
    await chat.say(A, f"!同意 {code} 同意")
    loser = await chat.reply_to(B, f"!同意 {code} 同意")
    assert f"{code} 的第 1 步已由他人处理" in loser and "#" not in loser, loser


async def test_a_named_step_is_named_in_the_refusal(db: Database) -> None:
    roles = {"duty_leader": [A, B], "leader": [C], "duty_officer": [D]}
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM, roles=roles)
    answer = await chat.reply_to(REQ, "!审批 发起 发文 关于防汛物资采购的请示")
    code = _code(answer)
    early = await chat.reply_to(C, f"!同意 {code}")
    assert "第 3 步「会签」" in early and "#" not in early, early
    await chat.say(A, f"!同意 {code} 可")
    loser = await chat.reply_to(B, f"!同意 {code} 可")
    assert f"{code} 的第 2 步「核稿」已由他人处理" in loser and "#" not in loser, loser


async def test_a_rejection_sends_the_drafter_one_dm(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    answer = await chat.reply_to(REQ, f"!审批 发起 关于防汛物资采购的请示 {A} > {B}")
    code = _code(answer)
    sent = await chat.say(A, f"!驳回 {code} 预算超标")
    to_drafter = [str(r.content["body"]) for r in sent if r.to_user == REQ]
    assert len(to_drafter) == 1, to_drafter
    assert to_drafter[0].startswith(f"❌ 您的审批 {code} 被 {A} 驳回（第1步），审批结束")
    assert "预算超标" in to_drafter[0]
    async with db.reading() as session:
        dms = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.to_user == REQ)))
    assert sum("驳回" in str(r.content.get("body")) for r in dms) == 1
