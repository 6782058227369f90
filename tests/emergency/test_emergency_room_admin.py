"""Moderator power for commanders and the duty room alias, against a stand-in bot client."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest

from bot.errors import MatrixError
from emergency import room_admin


class FakeRooms:
    """The BotClient room calls room_admin makes; a refusal is the client's MatrixError."""

    user_id = "@bot:hs"

    def __init__(self, levels: dict[str, Any] | None = None, aliases: dict[str, str] | None = None) -> None:
        self.levels = levels or {"users": {"@bot:hs": 100}, "users_default": 0}
        self.aliases = aliases or {}
        self.put: list[tuple[str, str, dict[str, Any]]] = []
        self.lookups = 0

    async def power_levels(self, room_id: str) -> dict[str, Any]:
        return dict(self.levels)

    async def set_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        self.put.append((room_id, "m.room.power_levels", content))

    async def resolve_alias(self, alias: str) -> str:
        self.lookups += 1
        if alias in self.aliases:
            return self.aliases[alias]
        raise MatrixError(SimpleNamespace(status_code="M_NOT_FOUND", message="not found"))


def _client(rooms: FakeRooms) -> Any:
    return rooms


def _settings(duty_room: str) -> Any:
    return SimpleNamespace(duty_room=duty_room)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    room_admin.forget_resolved()


def test_raised_levels_never_lowers_and_keeps_other_fields() -> None:
    content = {"users": {"@admin:hs": 100, "@mod:hs": 50, "@low:hs": 10}, "users_default": 0, "ban": 50}
    raised = room_admin.raised_levels(content, ["@admin:hs", "@low:hs", "@new:hs"])
    assert raised == {
        "users": {"@admin:hs": 100, "@mod:hs": 50, "@low:hs": 50, "@new:hs": 50},
        "users_default": 0,
        "ban": 50,
    }
    assert room_admin.raised_levels(content, ["@admin:hs", "@mod:hs"]) is None
    assert room_admin.raised_levels({"users_default": 50}, ["@any:hs"]) is None


async def test_make_moderators_puts_the_changed_levels_only_when_needed() -> None:
    rooms = FakeRooms()
    assert await room_admin.make_moderators(_client(rooms), "!r:hs", ["@a:hs", "@bot:hs"])
    assert rooms.put == [("!r:hs", "m.room.power_levels", {"users": {"@bot:hs": 100, "@a:hs": 50}, "users_default": 0})]
    rooms.levels = rooms.put[0][2]
    assert await room_admin.make_moderators(_client(rooms), "!r:hs", ["@a:hs"])
    assert len(rooms.put) == 1  # already a moderator: nothing sent


async def test_make_moderators_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    rooms = FakeRooms()

    async def refuse(room_id: str, content: dict[str, Any]) -> None:
        raise MatrixError(SimpleNamespace(status_code="M_FORBIDDEN", message="forbidden"))

    rooms.set_power_levels = refuse  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="emergency.room_admin"):
        assert not await room_admin.make_moderators(_client(rooms), "!r:hs", ["@a:hs"])
    assert "could not raise" in caplog.text


async def test_duty_room_id_passes_room_ids_and_caches_aliases() -> None:
    rooms = FakeRooms(aliases={"#duty:hs": "!duty:hs"})
    assert await room_admin.duty_room_id(_settings(""), _client(rooms)) is None
    assert await room_admin.duty_room_id(_settings("!id:hs"), _client(rooms)) == "!id:hs"
    assert rooms.lookups == 0
    for _ in range(3):
        assert await room_admin.duty_room_id(_settings("#duty:hs"), _client(rooms)) == "!duty:hs"
    assert rooms.lookups == 1


async def test_unresolvable_alias_is_logged_once_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    rooms = FakeRooms()
    settings = _settings("#gone:hs")
    with caplog.at_level(logging.WARNING, logger="emergency.room_admin"):
        assert await room_admin.duty_room_id(settings, _client(rooms)) is None
        assert await room_admin.duty_room_id(settings, _client(rooms)) is None
    assert caplog.text.count("#gone:hs") == 1
    # Created later, it is found without a restart.
    rooms.aliases["#gone:hs"] = "!late:hs"
    assert await room_admin.duty_room_id(settings, _client(rooms)) == "!late:hs"
