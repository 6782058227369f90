"""A DM room the bot made but never wrote into `m.direct` (killed in between) is used, not made again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from nio import MatrixRoom

from bot import BotClient, ClientOptions, Dispatcher, JoinPolicy

BOT = "@zhiban:office"
LI = "@li:office"


@pytest.fixture
async def client() -> AsyncIterator[BotClient]:
    options = ClientOptions(
        homeserver="http://127.0.0.1:9", user_id=BOT, e2ee=False, join_policy=JoinPolicy(["office"])
    )
    bot = BotClient(options, Dispatcher())
    bot.synced.set()
    yield bot
    await bot.close()


def _room(bot: BotClient, room_id: str, *, creator: str, members: dict[str, bool], name: str | None = None) -> None:
    """A synced room: who made it, who is in it (True: invited), its name."""
    room = MatrixRoom(room_id, BOT)
    for user, invited in members.items():
        room.add_member(user, None, None, invited=invited)
    room.name = name
    bot.nio.rooms[room_id] = room
    bot._creators[room_id] = {creator}


def _record_writes(bot: BotClient, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What the bot writes into `m.direct`; creating a room fails the test."""
    written: list[dict[str, Any]] = []

    async def send(method: str, path: str, data: str, headers: dict[str, str]) -> Any:
        assert path.endswith("/account_data/m.direct"), path
        written.append(json.loads(data))
        return SimpleNamespace(status=200)

    async def room_create(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a second DM room was made")

    monkeypatch.setattr(bot.nio, "send", send)
    monkeypatch.setattr(bot.nio, "room_create", room_create)
    return written


async def test_the_unrecorded_dm_room_is_found_and_recorded(client: BotClient, monkeypatch: pytest.MonkeyPatch) -> None:
    written = _record_writes(client, monkeypatch)
    # Not it: an incident room (named), a room li made, a room of three.
    _room(client, "!incident:office", creator=BOT, members={BOT: False, LI: True}, name="城东内涝")
    _room(client, "!hers:office", creator=LI, members={BOT: False, LI: False})
    _room(client, "!three:office", creator=BOT, members={BOT: False, LI: True, "@wang:office": True})
    _room(client, "!dm:office", creator=BOT, members={BOT: False, LI: True})

    assert await client.dm_room(LI) == "!dm:office"
    assert written == [{LI: ["!dm:office"]}]
    assert await client.dm_room(LI) == "!dm:office"  # from m.direct now: no second write
    assert len(written) == 1


async def test_a_room_the_person_left_is_not_taken(client: BotClient, monkeypatch: pytest.MonkeyPatch) -> None:
    _record_writes(client, monkeypatch)
    _room(client, "!left:office", creator=BOT, members={BOT: False})
    assert client._unrecorded_dm(LI) is None
