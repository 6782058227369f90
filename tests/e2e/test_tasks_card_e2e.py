"""A task you can see, through a real homeserver: the card is edited in place (m.replace of the
card itself) on progress, submission and 办结; `!督办 T7` shows where it stands; accepted tasks
are listed with `!督办列表 已办结`; "截止 明天" is tomorrow at the office's end of day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


def _edits_of(card: Received, contains: str) -> Callable[[Received], bool]:
    """An edit (m.replace) of the card itself whose new text holds `contains`."""

    def matches(item: Received) -> bool:
        relation = item.content.get("m.relates_to") or {}
        return (
            relation.get("rel_type") == "m.replace"
            and relation.get("event_id") == card.event_id
            and contains in str((item.content.get("m.new_content") or {}).get("body", ""))
        )

    return matches


async def test_the_task_card_follows_the_task(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False, tasks={"end_of_day": "17:30"})
    alice = await make_user("alice")  # the assigner
    bob = await make_user("bob")  # the lead
    eve = await make_user("eve")  # not on the task
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, eve.user_id])
    for member in (bot.user_id, bob.user_id, eve.user_id):
        await alice.wait_for_member(room, member)

    mark = alice.mark()
    await alice.send_text(room, f"!督办 整理会议纪要 {bob.user_id} 截止 明天")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📌 督办", since=mark)
    body = card.body or ""
    assert "17:30（下班前）" in body and "状态：办理中 · 进度 0%" in body, body
    code = body.split("督办 ", 1)[1].split("：", 1)[0].strip()

    clock.advance(timedelta(minutes=30))
    await bob.send_text(room, f"!进展 {code} 50% 初稿已完成")
    await alice.wait_for(_edits_of(card, "进度 50%"), since=mark)
    await bob.send_text(room, f"!完成 {code} 纪要已上传")
    await alice.wait_for(_edits_of(card, "待办结"), since=mark)
    await alice.send_text(room, f"!办结 {code}")
    await alice.wait_for(_edits_of(card, "已办结"), since=mark)

    mark = bob.mark()
    await bob.send_text(room, f"!督办 {code}")
    shown = await bob.wait_for_message(room, sender=bot.user_id, contains="办理记录", since=mark)
    assert "状态：✅ 已办结" in (shown.body or "") and "报告进度 50%：初稿已完成" in (shown.body or "")
    await bob.send_text(room, "!督办列表 已办结")
    await bob.wait_for_message(room, sender=bot.user_id, contains=f"{code}「整理会议纪要」", since=mark)

    # Need to know: someone in the room but not on the task is told it does not exist.
    mark = eve.mark()
    await eve.send_text(room, f"!督办 {code}")
    await eve.wait_for_message(room, sender=bot.user_id, contains=f"没有找到督办事项 {code}", since=mark)
