"""督办 in chat: assign, refuse a stranger, extension by reaction, 退办 then 办结 by ✅."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_task_lifecycle_in_chat(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")  # the assigner
    bob = await make_user("bob")  # the lead
    eve = await make_user("eve")  # not involved
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, eve.user_id])
    for member in (bot.user_id, bob.user_id, eve.user_id):
        await alice.wait_for_member(room, member)

    mark = alice.mark()
    await alice.send_text(room, f"!督办 整理会议纪要 {bob.user_id} 截止 3天后 来源 M3 紧急")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📌 督办", since=mark)
    body = card.body or ""
    assert "整理会议纪要" in body and "来源：M3" in body and "【紧急】" in body
    # The lead by name (the homeserver's default one), as a pill in the HTML.
    assert f"牵头：{bob.user_id[1:].split(':', 1)[0]}" in body and bob.user_id not in body
    assert f'<a href="https://matrix.to/#/{bob.user_id}">' in card.content["formatted_body"]
    code = body.split("督办 ", 1)[1].split("【", 1)[0].split("：", 1)[0].strip()
    assert code.startswith("T")

    # Eve reads the room but is not on the task: she is answered as for a task that does not exist.
    await eve.send_text(room, f"!progress {code} 50% 我来")
    await alice.wait_for_message(room, sender=bot.user_id, contains=f"没有找到督办事项 {code}", since=mark)
    await bob.send_text(room, f"!进展 {code} 120%")
    await alice.wait_for_message(room, sender=bot.user_id, contains="0–100", since=mark)

    await bob.send_text(room, f"!延期 {code} 5天后 需要会签")
    request = await alice.wait_for_message(room, sender=bot.user_id, contains="申请将", since=mark)
    await alice.react(room, request.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="延期已批准", since=mark)

    await bob.send_text(room, f"!完成 {code} 纪要已上传")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已提交完成", since=mark)
    await alice.send_text(room, f"!退办 {code} 缺少附件")
    await alice.wait_for_message(room, sender=bot.user_id, contains="被退办", since=mark)

    again = alice.mark()
    await bob.send_text(room, f"!完成 {code} 附件已补")
    notice = await alice.wait_for_message(room, sender=bot.user_id, contains="已提交完成", since=again)
    await bob.react(room, notice.event_id, "✅")  # the lead cannot accept their own work
    await alice.wait_for_message(room, sender=bot.user_id, contains="只有", since=again)
    await alice.react(room, notice.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已办结", since=again)


async def test_task_lists_and_withdrawal_in_chat(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")  # the assigner
    bob = await make_user("bob")  # the lead
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    for member in (bot.user_id, bob.user_id):
        await alice.wait_for_member(room, member)

    codes = []
    for title, due in (("年度总结", "5天后"), ("报送值班表", "2小时后")):
        mark = alice.mark()
        await alice.send_text(room, f"!督办 {title} {bob.user_id} 截止 {due}")
        card = await alice.wait_for_message(room, sender=bot.user_id, contains=title, since=mark)
        codes.append((card.body or "").split("督办 ", 1)[1].split("：", 1)[0])
    later, soon = codes
    clock.advance(timedelta(hours=3))

    mark = bob.mark()
    await bob.send_text(room, "!tasks")
    mine = await bob.wait_for_message(room, sender=bot.user_id, contains="按期限", since=mark)
    lines = (mine.body or "").splitlines()
    assert lines[1].startswith(f"🔴{soon}「报送值班表」") and lines[2].startswith(f"{later}「年度总结」")
    mark = alice.mark()
    await alice.send_text(room, "!督办列表 超期")
    overdue = await alice.wait_for_message(room, sender=bot.user_id, contains="超期的督办事项", since=mark)
    assert soon in (overdue.body or "") and later not in (overdue.body or "")

    mark = alice.mark()
    await alice.send_text(room, f"!督办 撤销 {soon} 已由其他处室办理")
    await alice.wait_for_message(room, sender=bot.user_id, contains=f"已撤销督办 {soon}", since=mark)
    await bob.send_text(room, f"!进展 {soon} 50%")
    await alice.wait_for_message(room, sender=bot.user_id, contains=f"没有找到督办事项 {soon}", since=mark)
