"""A time the meeting wizard cannot read is answered in the sender's words, quoting them."""

from __future__ import annotations

from records.clock import FrozenClock
from records.db import Database
from tests.support.office_chat import BOSS, T0, office_chat


async def test_an_unreadable_time_in_the_wizard_is_quoted_back_and_the_question_stands(db: Database) -> None:
    chat = office_chat(db, FrozenClock(T0))
    assert "时间" in await chat.reply_to(BOSS, "!会议 防汛会商")
    reply = await chat.reply_to(BOSS, "明天9点 随便哪天都行")
    assert "没能理解时间“明天9点 随便哪天都行”" in reply
    # The question stands: a readable time now moves the wizard on to who attends.
    assert "参会人员" in await chat.reply_to(BOSS, "明天9点")
