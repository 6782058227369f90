"""What people see of names and cards, read back from a real Synapse.

People are shown by display name (a pill in the HTML, the name in the plain body), only those
who must act are mentioned, every copy of a card is edited when its state changes, and an edit
keeps the message type of what it edits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nio import ProfileSetDisplayNameError, RoomMessagesResponse
from sqlalchemy import select

from emergency.models import Incident
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def _named(make_user: MakeUser, localpart: str, name: str) -> ChatUser:
    """A user who set a display name before joining anything (their membership events carry it)."""
    user = await make_user(localpart)
    response = await user.client.set_displayname(name)
    assert not isinstance(response, ProfileSetDisplayNameError), response
    return user


def _pill(user: ChatUser, name: str) -> str:
    return f'<a href="https://matrix.to/#/{user.user_id}">{name}</a>'


async def _history(user: ChatUser, room_id: str) -> list[dict[str, Any]]:
    """The room's messages as the homeserver keeps them (/messages), oldest first."""
    response = await user.client.room_messages(room_id, start="", limit=200)
    assert isinstance(response, RoomMessagesResponse), response
    return [e.source for e in reversed(response.chunk) if e.source.get("type") == "m.room.message"]


def _edits_of(history: list[dict[str, Any]], event_id: str) -> list[dict[str, Any]]:
    return [
        e
        for e in history
        if (e["content"].get("m.relates_to") or {}).get("rel_type") == "m.replace"
        and e["content"]["m.relates_to"].get("event_id") == event_id
    ]


async def test_approval_card_names_mentions_and_the_approvers_dm_is_edited(
    make_bot: MakeBot, make_user: MakeUser
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(clock=clock, e2ee=False)
    alice = await _named(make_user, "alice", "张主任")  # the requester
    bob = await _named(make_user, "bob", "赵处长")
    carol = await _named(make_user, "carol", "王科长")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)

    mark, bob_mark = alice.mark(), bob.mark()
    await alice.send_text(room, f"!审批 发起 关于防汛物资采购的请示 {bob.user_id} > {carol.user_id}")
    card = await alice.wait_for_message(room, sender=bot.user_id, contains="📝 审批 A", since=mark)
    code = (card.body or "").split("审批 ", 1)[1].split("：", 1)[0]

    # Names, not IDs: the display name in the body, a pill in the HTML, the chain as a list.
    body, html = card.body or "", card.content["formatted_body"]
    assert "张主任" in body and "赵处长" in body and "王科长" in body
    assert all(user.user_id not in body for user in (alice, bob, carol))
    assert _pill(alice, "张主任") in html and _pill(bob, "赵处长") in html and _pill(carol, "王科长") in html
    assert "<ol>" in html and "<li>" in html
    # Only the approver now due is mentioned: not the requester, not the later step.
    assert card.content["m.mentions"] == {"user_ids": [bob.user_id]}

    def request_dm(item: Received) -> bool:
        return item.sender == bot.user_id and item.room_id != room and f"请审批 {code}" in (item.body or "")

    request = await bob.wait_for(request_dm, since=bob_mark)
    assert "张主任" in (request.body or "") and _pill(alice, "张主任") in request.content["formatted_body"]

    # Bob decides on the room card; the DM that asked him is edited to say it is done.
    await bob.react(room, card.event_id, "✅")

    def dm_edit(item: Received) -> bool:
        relates = item.content.get("m.relates_to") or {}
        return item.room_id == request.room_id and relates.get("event_id") == request.event_id

    await bob.wait_for(dm_edit, since=bob_mark)
    dm_history = await _history(bob, request.room_id)
    edits = _edits_of(dm_history, request.event_id)
    assert edits, dm_history
    latest = edits[-1]["content"]["m.new_content"]
    assert "您已同意" in latest["body"] and "无需再操作" in latest["body"] and "请审批" not in latest["body"]

    # The room card's edit now mentions carol, who must act next, and bob by name for his decision.
    def card_edit(item: Received) -> bool:
        relates = item.content.get("m.relates_to") or {}
        new = item.content.get("m.new_content") or {}
        return relates.get("event_id") == card.event_id and "赵处长 同意" in new.get("body", "")

    edit = await alice.wait_for(card_edit, since=mark)
    assert edit.content["m.new_content"]["m.mentions"] == {"user_ids": [carol.user_id]}
    assert edit.content["m.mentions"] == {"user_ids": [carol.user_id]}  # newly asked: carol alone
    assert edit.content["msgtype"] == card.content["msgtype"]


async def test_order_card_dms_nags_and_escalation_by_name(make_bot: MakeBot, make_user: MakeUser) -> None:
    officer = await _named(make_user, "officer", "李值班")
    leader = await _named(make_user, "leader", "张主任")
    fire = await _named(make_user, "fire", "赵处长")
    clock = FrozenClock(datetime.now(UTC))
    bot = await make_bot(
        stepup={"incident_declare": False},  # grade Ⅱ without the phone's confirmation here
        clock=clock,
        e2ee=False,
        roles={"duty_leader": [leader.user_id], "duty_officer": [officer.user_id]},
        emergency={"responders": [{"classes": ["自然灾害"], "grades": [1, 2], "users": [fire.user_id]}]},
    )
    duty_room = await officer.create_room(invite=[bot.user_id])
    await officer.wait_for_member(duty_room, bot.user_id)
    mark = officer.mark()
    await officer.send_text(duty_room, "!应急 启动 Ⅱ 自然灾害 城东内涝")
    await officer.wait_for_message(duty_room, sender=bot.user_id, contains="已启动", since=mark)
    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            incident = await session.scalar(select(Incident))
            assert incident is not None and incident.room_id
            room, nag_minutes = incident.room_id, incident.ack_minutes
    finally:
        await db.dispose()
    for user in (officer, leader, fire):
        await user.wait_for_room(room)
    await officer.wait_for_member(room, fire.user_id)
    await officer.wait_for_member(room, leader.user_id)

    mark, fire_mark, leader_mark = officer.mark(), fire.mark(), leader.mark()
    await officer.send_text(room, f"!指令 {fire.user_id} {leader.user_id} 到城东泵站集合")
    card = await fire.wait_for_message(room, sender=bot.user_id, contains="确认 0/2", since=0)
    # An urgent card: m.text, people by name in a table, both recipients mentioned.
    assert card.content["msgtype"] == "m.text"
    body, html = card.body or "", card.content["formatted_body"]
    assert "李值班" in body and "赵处长" in body and "张主任" in body and fire.user_id not in body
    assert "<table>" in html and _pill(fire, "赵处长") in html and _pill(officer, "李值班") in html
    assert card.content["m.mentions"] == {"user_ids": [fire.user_id, leader.user_id]}

    def order_dm(user: ChatUser) -> Any:
        return lambda e: e.sender == bot.user_id and e.room_id != room and "指令 O1" in (e.body or "")

    dm = await fire.wait_for(order_dm(fire), since=fire_mark)
    await fire.react(dm.room_id, dm.event_id, "✅")

    # Fire's DM now says it is acknowledged (read back from the homeserver).
    def dm_edited(e: Received) -> bool:
        return (e.content.get("m.relates_to") or {}).get("event_id") == dm.event_id and e.type == "m.room.message"

    await fire.wait_for(dm_edited, since=fire_mark)
    latest = _edits_of(await _history(fire, dm.room_id), dm.event_id)[-1]["content"]
    assert "您已确认指令 O1" in latest["m.new_content"]["body"] and "请点" not in latest["m.new_content"]["body"]
    assert latest["m.new_content"]["msgtype"] == dm.content["msgtype"]

    # The card's edit mentions only the one who still has to acknowledge, and stays m.text.
    def card_acked(e: Received) -> bool:
        new = e.content.get("m.new_content") or {}
        return (e.content.get("m.relates_to") or {}).get("event_id") == card.event_id and "确认 1/2" in new.get(
            "body", ""
        )

    edit = await officer.wait_for(card_acked, since=mark)
    assert edit.content["m.new_content"]["m.mentions"] == {"user_ids": [leader.user_id]}
    assert edit.content["msgtype"] == "m.text" and edit.content["m.new_content"]["msgtype"] == "m.text"

    # The silent leader is nagged: an m.text DM that mentions them.
    clock.advance(timedelta(minutes=nag_minutes))
    await bot.pump_timers()
    nag = await leader.wait_for(
        lambda e: e.sender == bot.user_id and e.room_id != room and "尚未确认" in (e.body or ""), since=leader_mark
    )
    assert nag.content["msgtype"] == "m.text" and nag.content["m.mentions"] == {"user_ids": [leader.user_id]}

    # The incident's summary card, the timeline and the duty roster name people too.
    summary = await officer.wait_for_message(room, sender=bot.user_id, contains="🚨 E1", since=0)
    assert _pill(officer, "李值班") in summary.content["formatted_body"] and officer.user_id not in (summary.body or "")
    step = officer.mark()
    await officer.send_text(room, "!时间线")
    timeline = await officer.wait_for_message(room, sender=bot.user_id, contains="时间线", since=step)
    assert "李值班" in (timeline.body or "") and _pill(fire, "赵处长") in timeline.content["formatted_body"]
    assert fire.user_id not in (timeline.body or "")
    await officer.send_text(duty_room, "!值班")
    roster = await officer.wait_for_message(duty_room, sender=bot.user_id, contains="值班", since=step)
    assert "张主任" in (roster.body or "") and _pill(leader, "张主任") in roster.content["formatted_body"]

    # After the second nag the room hears it: m.text, the late person named as a pill and mentioned.
    clock.advance(timedelta(minutes=nag_minutes))
    await bot.pump_timers()
    escalation = await officer.wait_for_message(room, sender=bot.user_id, contains="未确认指令 O1", since=mark)
    assert escalation.content["msgtype"] == "m.text"
    assert "张主任" in (escalation.body or "") and _pill(leader, "张主任") in escalation.content["formatted_body"]
    assert escalation.content["m.mentions"] == {"user_ids": [leader.user_id]}


async def test_an_edit_of_a_notice_stays_a_notice(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    db = Database(bot.settings.database_url)
    try:
        async with db.transaction() as session:
            notice = outbox.text_content("📋 值班提示：今晚 22:00 交接", msgtype="m.notice")
            await outbox.enqueue(session, notice, room_id=room, ref="card:test-notice")
        original = await alice.wait_for_message(room, sender=bot.user_id, contains="值班提示", since=mark)
        async with db.transaction() as session:
            # A feature's edit written as plain text content (m.text by default).
            await outbox.enqueue_edits(session, "card:test-notice", outbox.text_content("📋 值班提示：已交接"))
    finally:
        await db.dispose()
    assert bot.runtime is not None and bot.runtime.relay is not None
    bot.runtime.relay.wake()
    await alice.wait_for(
        lambda e: (e.content.get("m.relates_to") or {}).get("event_id") == original.event_id, since=mark
    )
    [edit] = _edits_of(await _history(alice, room), original.event_id)
    assert original.content["msgtype"] == "m.notice"
    assert edit["content"]["msgtype"] == "m.notice" and edit["content"]["m.new_content"]["msgtype"] == "m.notice"
