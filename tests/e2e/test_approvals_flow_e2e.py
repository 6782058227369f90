"""公文审批 through a real Synapse: card, reactions, DMs, a restart between decisions, bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from commands.approvals import service
from records import audit
from records.clock import FrozenClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


def _dm_from(bot_id: str, room: str, text: str):  # type: ignore[no-untyped-def]
    """A message from the bot outside the shared room (its DM with the user) containing `text`."""

    def match(item: Received) -> bool:
        return (
            item.sender == bot_id
            and item.room_id != room
            and item.type == "m.room.message"
            and text in (item.body or "")
        )

    return match


def _name(user: ChatUser) -> str:
    """How the office shows a test user who set no display name: the homeserver's default."""
    return user.user_id[1:].split(":", 1)[0]


def _count(user: ChatUser, bot_id: str, since: int, text: str, *, room: str | None = None, dm_of: str = "") -> int:
    found = 0
    for item in user.received[since:]:
        if item.sender != bot_id or item.type != "m.room.message" or text not in (item.body or ""):
            continue
        if "m.new_content" in item.content:
            continue  # edits of the card are not new messages
        if room is not None and item.room_id != room:
            continue
        if dm_of and item.room_id == dm_of:
            continue
        found += 1
    return found


async def test_chain_with_reactions_and_restart(make_bot: MakeBot, make_user: MakeUser) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await make_user("alice")  # the requester
    bob = await make_user("bob")
    carol = await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)

    mark, bob_mark, carol_mark = alice.mark(), bob.mark(), carol.mark()
    await alice.send_text(room, f"!审批 发起 关于防汛物资采购的请示 {bob.user_id} > {carol.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark)
    body = card.body or ""
    # People by name (the homeserver's default display name is the localpart), pills in the HTML.
    assert "关于防汛物资采购的请示" in body and _name(bob) in body and _name(carol) in body
    assert bob.user_id not in body
    assert f'<a href="https://matrix.to/#/{bob.user_id}">' in card.content["formatted_body"]
    code = body.split("审批 ", 1)[1].split("：", 1)[0]
    await bob.wait_for(_dm_from(bot.user_id, room, f"请审批 {code}"), since=bob_mark)

    # The requester cannot approve; bob's ✅ on the card moves it to carol.
    await alice.react(room, card.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="不能自己审批", since=mark)
    await bob.react(room, card.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains=f"✅ {_name(bob)} 同意", since=mark)
    await carol.wait_for(_dm_from(bot.user_id, room, f"请审批 {code}"), since=carol_mark)
    await alice.wait_for(_dm_from(bot.user_id, room, f"{_name(bob)} 同意了 {code}"), since=mark)

    # A restart between the two decisions: the state survives, nothing is sent twice.
    await bot.stop()
    await bot.start()

    await carol.react(room, card.event_id, "❌")
    question = await alice.wait_for_message(room, sender=bot.user_id, contains="需要说明理由", since=mark)
    await carol.send_text(room, "预算超标，请压减后再报", reply_to=question.event_id)  # in a group: a reply
    await alice.wait_for_message(room, sender=bot.user_id, contains="❌ 已驳回", since=mark)
    await alice.wait_for(_dm_from(bot.user_id, room, "预算超标，请压减后再报"), since=mark)

    await asyncio.sleep(1.0)  # let any (wrong) duplicate arrive before counting
    assert _count(alice, bot.user_id, mark, "📝 审批 A", room=room) == 1  # one card, edited in place
    assert _count(bob, bot.user_id, bob_mark, f"请审批 {code}", dm_of=room) == 1
    assert _count(carol, bot.user_id, carol_mark, f"请审批 {code}", dm_of=room) == 1

    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            approval = await service.get_approval(session, service.parse_code(code))
            assert approval.status == "rejected"
            assert (await audit.verify(session)).ok
    finally:
        await db.dispose()


async def test_all_and_any_steps_replies_and_bad_input(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    bob = await make_user("bob")
    carol = await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    other = await bob.create_room(invite=[bot.user_id, carol.user_id])  # a group room, not a DM
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)
    await bob.wait_for_member(other, bot.user_id)

    mark = alice.mark()
    # Bad input, each with a clear answer.
    for text, answer in [
        (f"!approval new 请示 {bob.user_id} >> {carol.user_id}", "不能连写"),
        (f"!approval new 请示 {bob.user_id} &", "不能连写"),
        (f"!approval new 请示 {bob.user_id} & {carol.user_id} | {bob.user_id}", "不能同时用"),
        ("!approval new 请示 @nobody-here-xyz", "找不到用户"),
        (f"!approval new 请示 {alice.user_id}", "不能审批自己"),
        (f"!approval new {'很长的标题' * 60} {bob.user_id}", "标题太长"),
        ("!approve A99999", "没有找到审批"),
    ]:
        probe = alice.mark()
        await alice.send_text(room, text)
        await alice.wait_for_message(room, sender=bot.user_id, contains=answer, since=probe)

    # The wizard: title first, then the chain (会签 then 或签).
    await alice.send_text(room, "!审批 发起")
    await alice.wait_for_message(room, sender=bot.user_id, contains="请发送标题", since=mark)
    await alice.send_text(room, "关于调整值班安排的请示")
    await alice.wait_for_message(room, sender=bot.user_id, contains="请 @ 审批人", since=mark)
    await alice.send_text(room, f"{bob.user_id} & {carol.user_id} > {carol.user_id} | {bob.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="关于调整值班安排的请示", since=mark)
    code = (card.body or "").split("审批 ", 1)[1].split("：", 1)[0]

    # The requester's text in the card's thread becomes the body of the document.
    await alice.send_text(room, "拟自下周一起调整带班安排。", thread_root=card.event_id)
    await alice.wait_for_message(room, sender=bot.user_id, contains="已补充到", since=mark)

    # An approval from another room is refused there.
    probe = bob.mark()
    await bob.send_text(other, f"!approve {code}")
    await bob.wait_for_message(other, sender=bot.user_id, contains="不是在本群发起的", since=probe)

    # 会签: both must approve; one by a reply "同意 …" to the card, one by command.
    await bob.send_text(room, "同意，拟按此执行", reply_to=card.event_id)
    await alice.wait_for_message(room, sender=bot.user_id, contains="等待本步其他人", since=mark)
    await carol.send_text(room, f"!同意 {code} 无意见")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已转下一步", since=mark)
    # 或签: the first one decides; the other is told it is already done.
    await carol.react(room, card.event_id, "✅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已通过", since=mark)
    await bob.send_text(room, f"!approve {code}")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已结束", since=mark)

    # The record: Markdown in chat, .docx uploaded as a file.
    await alice.send_text(room, f"!审批 导出 {code}")
    record = await alice.wait_for_message(room, sender=bot.user_id, contains="流转记录", since=mark)
    assert "拟自下周一起调整带班安排。" in (record.body or "") and "拟按此执行" in (record.body or "")
    upload = await alice.wait_for(
        lambda e: e.sender == bot.user_id and e.room_id == room and e.content.get("msgtype") == "m.file", since=mark
    )
    assert upload.content["body"] == f"{code}.docx"


async def test_template_transfer_addsign_return_nudge_withdraw(make_bot: MakeBot, make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    carol = await make_user("carol")
    roles = {"duty_leader": [bob.user_id], "leader": [carol.user_id], "duty_officer": [bob.user_id]}
    bot = await make_bot(e2ee=False, roles=roles)
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)

    mark = alice.mark()
    await alice.send_text(room, "!审批 发起 发文 关于做好2027年元旦值班工作的通知")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark)
    body = card.body or ""
    for step in ("拟稿", "核稿", "会签", "签发", "归档"):
        assert step in body
    code = body.split("审批 ", 1)[1].split("：", 1)[0]

    async def says(user: ChatUser, text: str, expect: str) -> None:
        probe = alice.mark()
        await user.send_text(room, text)
        await alice.wait_for_message(room, sender=bot.user_id, contains=expect, since=probe)

    await says(alice, f"!催办 {code}", "已催办")
    await says(alice, f"!催办 {code}", "刚催办过")
    await says(carol, f"!同意 {code}", "还没到您")
    await says(bob, f"!转交 {code} {carol.user_id}", "已由")  # 核稿 handed to carol
    await says(carol, f"!加签 {code} {bob.user_id} 前", "本步之前")  # bob decides before carol
    await says(bob, f"!同意 {code} 先行核对", "已转下一步")
    await says(carol, f"!退回 {code} 格式不规范", "已退回")  # back to bob's 加签 step
    await says(bob, f"!退回 {code} 请拟稿人修改", "已退回拟稿人")
    await says(bob, f"!撤回 {code}", "只有")
    await says(alice, f"!撤回 {code}", "已撤回")
    await alice.wait_for_message(room, sender=bot.user_id, contains="已撤回", since=mark)
    await says(alice, "!审批列表", "我发起的")
