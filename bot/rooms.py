"""The homeserver calls features need beyond sending: rooms, members, media, state.

Mixed into `bot.client.BotClient`, so that a feature asks the client (`await client.invite(room,
user)`) and never reaches for nio. Every call raises `bot.errors.MatrixError` when the
homeserver refuses or cannot be reached; a feature catches that one error where a refusal has
an answer of its own (a best-effort courtesy, a user told why).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable
from typing import Any, TypeVar

import aiohttp
import nio

from bot.errors import MatrixError, check

T = TypeVar("T")

PINNED = "m.room.pinned_events"
POWER_LEVELS = "m.room.power_levels"
# A homeserver that does not answer: refused, reset, or too slow.
UNREACHABLE = (TimeoutError, OSError, aiohttp.ClientError)


async def _call(request: Awaitable[T]) -> T:
    """A nio request whose error response or broken connection becomes a MatrixError."""
    try:
        response = await request
    except UNREACHABLE as exc:
        raise MatrixError(exc) from exc
    return check(response)  # type: ignore[no-any-return]


class RoomCalls:
    """Room administration, media and lookups, each one request to the homeserver."""

    nio: nio.AsyncClient

    async def create_room(
        self,
        *,
        name: str = "",
        topic: str = "",
        invite: list[str] | None = None,
        initial_state: list[dict[str, Any]] | None = None,
    ) -> str:
        """A new private room; its id."""
        response = await _call(
            self.nio.room_create(name=name, topic=topic, invite=invite or [], initial_state=initial_state or [])
        )
        return str(response.room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        await _call(self.nio.room_invite(room_id, user_id))

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        """Put a file in the homeserver's media repository; its mxc:// URL."""
        try:
            response, _keys = await self.nio.upload(
                io.BytesIO(data), content_type=content_type, filename=filename, filesize=len(data)
            )
        except UNREACHABLE as exc:
            raise MatrixError(exc) from exc
        return str(check(response).content_uri)

    async def upload_for_room(self, room_id: str, data: bytes, *, content_type: str, filename: str) -> dict[str, Any]:
        """Upload a file to send in ``room_id``: the message content's media part, ``{"url": mxc}``,
        or for an encrypted room the file encrypted and ``{"file": {url, key, iv, hashes…}}``
        (the homeserver never holds a readable copy of what the room encrypts)."""
        room = self.nio.rooms.get(room_id)
        encrypt = bool(room is not None and room.encrypted)
        try:
            response, keys = await self.nio.upload(
                io.BytesIO(data), content_type=content_type, filename=filename, filesize=len(data), encrypt=encrypt
            )
        except UNREACHABLE as exc:
            raise MatrixError(exc) from exc
        url = str(check(response).content_uri)
        return {"file": {"url": url, **keys}} if encrypt and keys else {"url": url}

    async def room_state(self, room_id: str, event_type: str, state_key: str = "") -> dict[str, Any]:
        """The content of one state event of a room."""
        response = await _call(self.nio.room_get_state_event(room_id, event_type, state_key))
        return dict(response.content)

    async def put_state(self, room_id: str, event_type: str, content: dict[str, Any], state_key: str = "") -> str:
        """Set a state event; the id of the event that set it."""
        response = await _call(self.nio.room_put_state(room_id, event_type, content, state_key=state_key))
        return str(response.event_id)

    async def power_levels(self, room_id: str) -> dict[str, Any]:
        return await self.room_state(room_id, POWER_LEVELS)

    async def set_power_levels(self, room_id: str, content: dict[str, Any]) -> None:
        await self.put_state(room_id, POWER_LEVELS, content)

    async def pin(self, room_id: str, event_id: str) -> None:
        """Add an event to the room's pinned events (kept once, newest first)."""
        try:
            pinned = list(dict.fromkeys((await self.room_state(room_id, PINNED)).get("pinned") or []))
        except MatrixError as exc:
            if exc.status_code != "M_NOT_FOUND":
                raise
            pinned = []  # nothing pinned yet
        if event_id not in pinned:
            await self.put_state(room_id, PINNED, {"pinned": [event_id, *pinned]})

    async def get_event(self, room_id: str, event_id: str) -> dict[str, Any]:
        """One event as the homeserver has it (sender, content…)."""
        response = await _call(self.nio.room_get_event(room_id, event_id))
        return dict(response.event.source)

    async def profile_name(self, user_id: str) -> str | None:
        """A person's display name from their profile (None when they have set none)."""
        response = await _call(self.nio.get_displayname(user_id))
        return str(response.displayname) if response.displayname else None

    async def resolve_alias(self, alias: str) -> str:
        """The room id of an alias (#duty:server)."""
        response = await _call(self.nio.room_resolve_alias(alias))
        return str(response.room_id)
