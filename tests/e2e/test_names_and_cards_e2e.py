"""What people see of names and cards, read back from a real Synapse.

People are shown by display name (a pill in the HTML, the name in the plain body), only those
who must act are mentioned, every copy of a card is edited when its state changes, and an edit
keeps the message type of what it edits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from nio import ProfileSetDisplayNameError, RoomMessagesResponse

from records.clock import FrozenClock
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
