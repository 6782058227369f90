"""`!帮助` through the real dispatcher with every feature: the groups first, a group's commands
on `!帮助 <组>`, and every command of a name on `!help <command>`."""

from __future__ import annotations

from datetime import UTC, datetime

from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
ALICE = "@alice:office.example"
ROOM = "!duty:office.example"
GROUPS = ["【日常】", "【审批】", "【会议】", "【督办】", "【应急】", "【语音】", "【设置】"]


async def test_help_shows_the_groups_first_then_one_group_on_request(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    index = await chat.reply_to(ALICE, "!帮助")
    lines = index.splitlines()
    assert len(lines) <= 12, index  # one screen, not sixty lines
    starts = [next(i for i, line in enumerate(lines) if line.startswith(group)) for group in GROUPS]
    assert starts == sorted(starts), "groups in the order of a working day"
    assert "!帮助 <组名>" in index and " — " not in index, "details only on request"

    settings = await chat.reply_to(ALICE, "!帮助 设置")
    assert settings.startswith("【设置】")
    assert "!免打扰 — 查看或设置免打扰时段" in settings and "!语言 — " in settings
    assert "!审批" not in settings


async def test_help_for_a_word_shows_every_command_of_that_name(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    both = await chat.reply_to(ALICE, "!帮助 done")
    assert "有 2 个命令叫“done”" in both
    assert "【督办】!完成" in both and "【应急】!已完成" in both
    assert both.count("用法：") == 2


async def test_help_in_english_names_the_groups_in_english(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM)
    await chat.reply_to(ALICE, "!lang en")
    index = await chat.reply_to(ALICE, "!help")
    assert "【Everyday】!help !ping !whoami" in index and "【Settings】" in index
    group = await chat.reply_to(ALICE, "!help settings")
    assert "!quiet — Show or set quiet hours" in group
