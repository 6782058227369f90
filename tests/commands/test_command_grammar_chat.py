"""The daily command grammar through the real dispatcher: no record from a typo, every miss answered.

A sub-command typo is refused with the command's sub-commands (and a "did you mean"), never
taken as a title; a command of ours with missing arguments gets its usage; an unknown command
gets a suggestion where it is a near miss of ours, a short list in a DM or when the bot is
addressed, and nothing in a shared room when it is meant for another bot. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from commands.approvals.models import Approval
from commands.meetings.models import Meeting
from commands.tasks.models import Task
from emergency.models import Incident
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from tests.support.office_chat import BOSS, BOT, LI, T0, office_chat


def _chat(db: Database, clock: FrozenClock) -> DispatchChat:
    chat = office_chat(db, clock)
    chat.dispatcher.context["bot_user_id"] = BOT
    chat.dispatcher.context["bot_names"] = ["zhiban", "值班助手"]
    return chat


async def _records(db: Database) -> tuple[int, ...]:
    async with db.reading() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(model)) or 0
                for model in (Approval, Meeting, Task, Incident)
            ]
        )


async def _bodies(chat: DispatchChat, body: str, *, dm: bool = False) -> list[str]:
    return [str(row.content["body"]) for row in await chat.say(BOSS, body, dm=dm)]


async def test_a_sub_command_typo_is_refused_with_the_list_never_a_title(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    cases = [
        # (typed, the command as shown, a listed sub-command, the did-you-mean or None)
        ("!审批 删除 A1", "!审批", "发起", None),
        ("!审批 批发 关于采购的请示", "!审批", "导出", "!审批 发起"),
        ("!会议 删除 M1", "!会议", "改期", None),
        ("!会议 改其 M1 明天9点", "!会议", "日历", "!会议 改期"),
        ("!督办 删除 T1", "!督办", "撤销", None),
        ("!应急 关比 E1", "!应急", "启动", "!应急 关闭"),
        ("!值班 设值 明天 带班 @li", "!值班", "设置", "!值班 设置"),
        ("!推送 测式", "!推送", "测试", "!推送 测试"),
        ("!提醒列表 全不", "!提醒列表", "全部", "!提醒列表 全部"),
        ("!approval shw A1", "!approval", "导出", "!approval 查看"),
    ]
    for typed, command, listed, suggestion in cases:
        body = await chat.reply_to(BOSS, typed)
        assert body.startswith("⚠️") and command in body and listed in body, (typed, body)
        if suggestion is not None:
            assert f"{suggestion}？" in body or f"{suggestion}?" in body, (typed, body)
        # Nothing was started: a following plain message is no wizard's answer.
        assert await chat.say(BOSS, "明天下午3点") == [], typed
    assert await _records(db) == (0, 0, 0, 0)


async def test_working_shorthands_still_take_a_title(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    # No sub-command word: the text is the title, and the wizard asks for what is missing.
    assert "审批人" in await chat.reply_to(BOSS, "!审批 关于防汛物资采购的请示")
    assert "取消" in await chat.reply_to(BOSS, "取消")
    assert "时间" in await chat.reply_to(BOSS, "!会议 防汛会商")
    assert "未发起" in await chat.reply_to(BOSS, "取消")
    # An id alone still shows the record (here: one that does not exist).
    assert "M404" in await chat.reply_to(BOSS, "!会议 M404")


async def test_missing_arguments_get_the_usage_not_unknown_command(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    for typed, usage in [
        ("!办结", "!办结 T7"),
        ("!进展", "!进展 T7 60%"),
        ("!完成", "!完成 T7"),
        ("!进展 abc", "!进展 T7"),
    ]:
        body = await chat.reply_to(BOSS, typed)
        assert "未知命令" not in body and "您是不是想用" not in body, (typed, body)
        assert "用法" in body and usage in body, (typed, body)


async def test_unknown_commands_are_answered_where_they_are_ours(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    # A near miss of ours in a shared room: one character off a Chinese alias.
    body = await chat.reply_to(BOSS, "!审核 A1")
    assert "未知命令 !审核" in body and "!审批" in body
    body = await chat.reply_to(BOSS, "!aproval A1")
    assert "!approval" in body
    # A Chinese word in a shared room is ours: unknown, with where to look.
    body = await chat.reply_to(BOSS, "!不存在的命令")
    assert "未知命令 !不存在的命令" in body and "!帮助" in body
    # An English word far from ours is meant for another bot: left alone.
    assert await chat.say(BOSS, "!foo") == []
    assert await chat.say(BOSS, "!weather 北京") == []
    # A sentence that happens to start with a "！" is no command.
    assert await chat.say(BOSS, "！好的收到马上去办理") == []
    # In a DM, and when the bot is addressed by name: the closest commands.
    for typed, dm in [("!foo", True), ("zhiban: foo", False), ("值班助手 开个会吧", False)]:
        body = (await _bodies(chat, typed, dm=dm))[0]
        assert body.startswith("未知命令") and "相近的命令：!" in body, (typed, body)
    # A bare mention of the bot: a greeting with how to get help.
    for typed in ("zhiban", "@zhiban:localhost", "值班助手："):
        body = (await _bodies(chat, typed))[0]
        assert "您好" in body and "!帮助" in body, (typed, body)


async def test_a_meeting_without_a_title_keeps_its_whole_time_and_asks_for_the_title(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    assert "会议名称" in await chat.reply_to(BOSS, f"!会议 发起 明天17点 {LI}")
    await chat.say(BOSS, "碰头会")
    async with db.reading() as session:
        meeting = await session.scalar(select(Meeting))
    assert meeting is not None and meeting.title == "碰头会"
    # Tomorrow (Tuesday) 17:00 in Shanghai, not today.
    assert meeting.starts_at.replace(tzinfo=UTC) == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


async def test_help_for_a_command_lists_its_sub_commands(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    assert "子命令：发起、查看、导出、设置" in await chat.reply_to(BOSS, "!帮助 审批")


async def test_the_sub_command_list_is_in_the_reply_language(db: Database) -> None:
    chat = _chat(db, FrozenClock(T0))
    # The Chinese reply names the Chinese sub-commands, however the command was spelled.
    cases = [
        ("!security foo", "重置", "reset"),
        ("!安全 foo", "重置", "reset"),
        ("!tasks mne", "我的", "mine"),
        ("!督办列表 我得", "我的", "mine"),
        ("!duty xyz", "设置", "set"),
        ("!值班 xyz", "设置", "set"),
        ("!approval shw A1", "查看", "show"),
    ]
    for typed, zh_word, en_word in cases:
        body = await chat.reply_to(BOSS, typed)
        assert "没有子命令" in body and zh_word in body and en_word not in body, (typed, body)
    # The English reply names the English ones.
    await chat.say(BOSS, "!语言 en")
    for typed, zh_word, en_word in cases:
        body = await chat.reply_to(BOSS, typed)
        assert "has no sub-command" in body and en_word in body and zh_word not in body, (typed, body)
