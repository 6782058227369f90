"""A meeting's conflict warnings name the people who clash by display name, not Matrix ID."""

from __future__ import annotations

from records.clock import FrozenClock
from records.db import Database
from tests.support.office_chat import BOSS, LI, T0, office_chat


async def test_the_conflict_warnings_name_the_person_who_clashes(db: Database) -> None:
    chat = office_chat(db, FrozenClock(T0))
    for answer in ["!会议 防汛会商", "明天9点"]:
        await chat.reply_to(BOSS, answer)
    await chat.say(BOSS, LI)  # M1, with 李娜
    for answer in ["!会议 物资调度会", "明天9点"]:
        await chat.reply_to(BOSS, answer)
    warning = await chat.reply_to(BOSS, LI)
    assert "⚠️ 发现以下冲突" in warning and "· 李娜 同时段要参加会议 M1「防汛会商」" in warning, warning
    assert "@" not in warning.split("\n", 1)[1].split("仍要发起")[0], warning
    # Moving a meeting onto someone's other meeting warns by name too.
    await chat.say(BOSS, "取消")
    for answer in ["!会议 物资调度会", "明天15点"]:
        await chat.reply_to(BOSS, answer)
    await chat.say(BOSS, LI)  # M2, at another time
    sent = await chat.say(BOSS, "!会议 改期 M2 明天9点")
    moved = next(str(m.content["body"]) for m in sent if "已改期" in str(m.content["body"]))
    assert "李娜 同时段要参加会议 M1「防汛会商」" in moved and LI not in moved, moved
