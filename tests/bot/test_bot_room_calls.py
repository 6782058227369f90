"""The homeserver calls features make go through the bot client, against a real Synapse:
what they do there, and the one typed error when the homeserver refuses or is away."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot import BotClient, ClientOptions, Dispatcher, MatrixError
from tests.support.fixtures import MakeUser, homeserver, make_user
from zhiban.local.homeserver import LocalHomeserver

__all__ = ["homeserver", "make_user"]

pytestmark = pytest.mark.e2e  # a real Synapse


@pytest.fixture
async def bot(homeserver: LocalHomeserver, make_user: MakeUser) -> AsyncIterator[BotClient]:
    account = await make_user("bot", start=False)
    client = BotClient(ClientOptions(homeserver=homeserver.base_url, user_id=account.user_id, e2ee=False), Dispatcher())
    client.nio.access_token = account.access_token
    try:
        yield client
    finally:
        await client.close()


async def test_a_room_is_made_people_invited_and_its_state_read(bot: BotClient, make_user: MakeUser) -> None:
    li = await make_user("li", start=False)
    wang = await make_user("wang", start=False)
    room = await bot.create_room(name="城东内涝", topic="防汛", invite=[li.user_id])
    await bot.invite(room, wang.user_id)
    assert (await bot.room_state(room, "m.room.name"))["name"] == "城东内涝"
    members = await bot.room_state(room, "m.room.member", wang.user_id)
    assert members["membership"] == "invite"


async def test_a_commander_is_raised_and_a_message_pinned(bot: BotClient, make_user: MakeUser) -> None:
    li = await make_user("li", start=False)
    room = await bot.create_room(invite=[li.user_id])
    levels = await bot.power_levels(room)
    await bot.set_power_levels(room, {**levels, "users": {**levels["users"], li.user_id: 50}})
    assert (await bot.power_levels(room))["users"][li.user_id] == 50
    event_id = await bot.send_event(room, "m.room.message", {"msgtype": "m.text", "body": "水位 3.2 米"})
    await bot.pin(room, event_id)
    await bot.pin(room, event_id)  # pinned once
    assert (await bot.room_state(room, "m.room.pinned_events"))["pinned"] == [event_id]
    event = await bot.get_event(room, event_id)
    assert (event["sender"], event["content"]["body"]) == (bot.user_id, "水位 3.2 米")


async def test_a_file_is_uploaded_and_a_profile_read(bot: BotClient, make_user: MakeUser) -> None:
    li = await make_user("li", start=False)
    url = await bot.upload(b"report", content_type="text/plain", filename="report.txt")
    assert url.startswith("mxc://")
    assert await bot.download(url) == b"report"
    assert await bot.profile_name(li.user_id) is not None


async def test_a_refusal_is_one_typed_error(bot: BotClient) -> None:
    with pytest.raises(MatrixError):
        await bot.resolve_alias(f"#nowhere:{bot.user_id.partition(':')[2]}")
    with pytest.raises(MatrixError):
        await bot.invite("!missing:nowhere", "@li:nowhere")
    with pytest.raises(MatrixError):
        await bot.get_event("!missing:nowhere", "$none")


async def test_a_homeserver_that_is_away_is_the_same_typed_error() -> None:
    away = BotClient(ClientOptions(homeserver="http://127.0.0.1:9", user_id="@zhiban:office", e2ee=False), Dispatcher())
    away.nio.access_token = "token"
    try:
        with pytest.raises(MatrixError):
            await away.invite("!room:office", "@li:office")
        with pytest.raises(MatrixError):
            await away.upload(b"x", content_type="text/plain", filename="x.txt")
    finally:
        await away.close()
