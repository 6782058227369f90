"""Reading approvals in chat: `!审批` alone lists them, `!审批 A1` is short for `!审批 查看 A1`,
and `!审批列表 全部` lists every approval the reader may see. Through the real dispatcher, on
SQLite and PostgreSQL."""

from __future__ import annotations

from commands.approvals import service
from commands.approvals.chain import parse_chain
from records.clock import FrozenClock
from records.db import Database
from tests.commands.test_tasks_chat import BOSS, EVE, LEAD, ROOM, T0, Chat

TITLE = "关于防汛物资采购的请示"


async def _start(db: Database, clock: FrozenClock) -> str:
    async with db.transaction() as session:
        approval = await service.start_approval(
            session, requester=BOSS, title=TITLE, steps=parse_chain(LEAD), room_id=ROOM, clock=clock
        )
        return approval.code


async def test_an_approval_named_alone_shows_its_card_as_show_does(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    code = await _start(db, chat.clock)

    shorthand = await chat.reply_to(LEAD, f"!审批 {code}")
    assert shorthand.startswith(f"📝 审批 {code}：{TITLE}"), shorthand
    assert shorthand == await chat.reply_to(LEAD, f"!审批 查看 {code}")
    # Someone the rule does not admit learns nothing, whichever way they ask.
    assert f"没有找到审批 {code}" in await chat.reply_to(EVE, f"!审批 {code}")


async def test_the_bare_command_lists_what_waits_for_me_and_what_i_started(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    code = await _start(db, chat.clock)

    waiting = await chat.reply_to(LEAD, "!审批")
    mine, _, started = waiting.partition("📤 我发起的：")
    assert mine.startswith("⏳ 待我审批：") and code in mine, waiting
    assert "（无）" in started, waiting
    assert await chat.reply_to(LEAD, "!审批列表") == waiting

    drafter = await chat.reply_to(BOSS, "!审批列表")
    nothing, _, started = drafter.partition("📤 我发起的：")
    assert "（无）" in nothing and code in started, drafter


async def test_all_lists_every_approval_the_reader_may_see(db: Database) -> None:
    chat = Chat(db, FrozenClock(T0))
    code = await _start(db, chat.clock)

    seen = await chat.reply_to(LEAD, "!审批列表 全部")
    assert seen.startswith("📋 您可查看的审批") and code in seen, seen
    unseen = await chat.reply_to(EVE, "!审批列表 全部")
    assert code not in unseen and "（无）" in unseen, unseen
