"""The bot as users meet it: invitations, ping, help, mistakes, and encrypted rooms."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_invite_join_ping_and_help(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id], name="办公厅")
    await alice.wait_for_message(room, sender=bot.user_id, contains="值班助手")  # the greeting on joining
    mark = alice.mark()
    await alice.send_text(room, "!ping")
    pong = await alice.wait_for_message(room, sender=bot.user_id, contains="在线", since=mark)
    assert pong.content["m.relates_to"]["m.in_reply_to"]
    await alice.send_text(room, "！帮助")
    help_text = await alice.wait_for_message(room, sender=bot.user_id, contains="命令", since=mark)
    # The groups first, each on one line; a group's details on request.
    assert "【日常】！帮助 ！在吗 ！我是谁" in (help_text.body or "")
    assert "检查助手是否在线" not in (help_text.body or "")


async def test_unknown_command_and_wrong_usage_get_usage_back(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!pnig")
    unknown = await alice.wait_for_message(room, sender=bot.user_id, contains="未知命令", since=mark)
    assert "!ping" in (unknown.body or "")
    await alice.send_text(room, "!lang klingon")
    usage = await alice.wait_for_message(room, sender=bot.user_id, contains="用法", since=mark)
    assert "klingon" in (usage.body or "") and "!语言" in (usage.body or "")


async def test_language_preference_switches_replies(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!lang en")
    await alice.wait_for_message(room, sender=bot.user_id, contains="English", since=mark)
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=bot.user_id, contains="Online", since=mark)


async def test_invites_from_servers_outside_the_policy_are_declined(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot()
    assert bot.runtime is not None and bot.runtime.client is not None
    bot.runtime.client.options.join_policy.allowed_servers = ["elsewhere.example"]
    mallory = await make_user("mallory")
    room = await mallory.create_room(invite=[bot.user_id])
    left = await mallory.wait_for(
        lambda e: (
            e.room_id == room
            and e.type == "m.room.member"
            and e.sender == bot.user_id
            and e.content.get("membership") == "leave"
        )
    )
    assert left.content["membership"] == "leave"


async def test_encrypted_room_round_trip(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(e2ee=True)
    alice = await make_user("alice", e2e=True)
    room = await alice.create_room(invite=[bot.user_id], encrypted=True)
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!ping")
    pong = await alice.wait_for_message(room, sender=bot.user_id, contains="在线", since=mark, timeout=60)
    assert pong.encrypted


async def test_room_power_level_gives_room_admin_not_office_admin(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(roles={"leader": ["@someone:localhost"]})
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])  # the creator has power level 100
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!whoami")
    answer = await alice.wait_for_message(room, sender=bot.user_id, contains="角色", since=mark)
    body = answer.body or ""
    # Roles as the office says them, the most telling first; no role ids in Chinese text.
    assert "角色：本群管理员、工作人员。" in body and "领导" not in body
    assert "room_admin" not in body and "staff" not in body and "语言：中文" in body
