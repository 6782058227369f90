"""Moderator power for commanders and the duty room alias, against a stand-in Matrix client."""

from __future__ import annotations

import logging
from types import SimpleNamespace
from typing import Any

import pytest
from nio import RoomGetStateEventResponse, RoomResolveAliasError, RoomResolveAliasResponse

from emergency import room_admin


class FakeNio:
    def __init__(self, levels: dict[str, Any] | None = None, aliases: dict[str, str] | None = None) -> None:
        self.levels = levels or {"users": {"@bot:hs": 100}, "users_default": 0}
        self.aliases = aliases or {}
        self.put: list[tuple[str, str, dict[str, Any]]] = []
        self.lookups = 0

    async def room_get_state_event(self, room_id: str, event_type: str) -> Any:
        return RoomGetStateEventResponse(dict(self.levels), event_type, "", room_id)

    async def room_put_state(self, room_id: str, event_type: str, content: dict[str, Any]) -> Any:
        self.put.append((room_id, event_type, content))
        return SimpleNamespace()

    async def room_resolve_alias(self, alias: str) -> Any:
        self.lookups += 1
        if alias in self.aliases:
            return RoomResolveAliasResponse(alias, self.aliases[alias], [])
        return RoomResolveAliasError("not found")


def _client(nio: FakeNio) -> Any:
    return SimpleNamespace(nio=nio, user_id="@bot:hs")


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
    nio = FakeNio()
    assert await room_admin.make_moderators(_client(nio), "!r:hs", ["@a:hs", "@bot:hs"])
    assert nio.put == [("!r:hs", "m.room.power_levels", {"users": {"@bot:hs": 100, "@a:hs": 50}, "users_default": 0})]
    nio.levels = nio.put[0][2]
    assert await room_admin.make_moderators(_client(nio), "!r:hs", ["@a:hs"])
    assert len(nio.put) == 1  # already a moderator: nothing sent


async def test_make_moderators_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    nio = FakeNio()

    async def refuse(room_id: str, event_type: str, content: dict[str, Any]) -> Any:
        raise RuntimeError("forbidden")

    nio.room_put_state = refuse  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="emergency.room_admin"):
        assert not await room_admin.make_moderators(_client(nio), "!r:hs", ["@a:hs"])
    assert "could not raise" in caplog.text


async def test_duty_room_id_passes_room_ids_and_caches_aliases() -> None:
    nio = FakeNio(aliases={"#duty:hs": "!duty:hs"})
    assert await room_admin.duty_room_id(SimpleNamespace(duty_room=""), _client(nio)) is None
    assert await room_admin.duty_room_id(SimpleNamespace(duty_room="!id:hs"), _client(nio)) == "!id:hs"
    assert nio.lookups == 0
    for _ in range(3):
        assert await room_admin.duty_room_id(SimpleNamespace(duty_room="#duty:hs"), _client(nio)) == "!duty:hs"
    assert nio.lookups == 1


async def test_unresolvable_alias_is_logged_once_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    nio = FakeNio()
    settings = SimpleNamespace(duty_room="#gone:hs")
    with caplog.at_level(logging.WARNING, logger="emergency.room_admin"):
        assert await room_admin.duty_room_id(settings, _client(nio)) is None
        assert await room_admin.duty_room_id(settings, _client(nio)) is None
    assert caplog.text.count("#gone:hs") == 1
    # Created later, it is found without a restart.
    nio.aliases["#gone:hs"] = "!late:hs"
    assert await room_admin.duty_room_id(settings, _client(nio)) == "!late:hs"
