"""DM bookkeeping: which rooms are direct, and one DM room per person, made once.

Mixed into `bot.client.BotClient`. `m.direct` in the bot's account data is the record; a room
the homeserver made but `m.direct` never heard of (the bot was killed in between) is found again
by what it is rather than made twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import quote

import nio

from bot.errors import MatrixError, check
from bot.options import ClientOptions

log = logging.getLogger(__name__)


class DirectRooms:
    """The bot's DM rooms, as `m.direct` and the last sync know them."""

    nio: nio.AsyncClient
    user_id: str
    options: ClientOptions
    synced: asyncio.Event
    direct_rooms: dict[str, list[str]]
    _creators: dict[str, set[str]]
    # DM rooms created but not yet seen in a sync, and one creation at a time per person.
    _pending_dm: dict[str, str]
    _dm_locks: dict[str, asyncio.Lock]
    _direct_lock: asyncio.Lock

    def _init_direct(self) -> None:
        self.direct_rooms = {}
        self._pending_dm = {}
        self._dm_locks = {}
        self._direct_lock = asyncio.Lock()

    def _note_direct(self, event: Any) -> None:
        """Take the `m.direct` map from an account-data event of a sync, if it is one."""
        content = getattr(event, "content", None)
        if getattr(event, "type", None) == "m.direct" and isinstance(content, dict):
            self.direct_rooms = {
                u: [r for r in rooms if isinstance(r, str)] for u, rooms in content.items() if isinstance(rooms, list)
            }

    def is_dm(self, room_id: str) -> bool:
        if any(room_id in rooms for rooms in self.direct_rooms.values()):
            return True
        room = self.nio.rooms.get(room_id)
        # Rooms that nobody marked direct but hold just the bot and one person act as DMs.
        return room is not None and room.member_count == 2 and not room.name

    async def dm_room(self, user_id: str) -> str:
        """The direct-message room with a user, created (and marked direct) when there is none."""
        async with self._dm_locks.setdefault(user_id, asyncio.Lock()):
            return await self._dm_room(user_id)

    async def _dm_room(self, user_id: str) -> str:
        pending = self._pending_dm.get(user_id)
        if pending is not None:
            if pending not in self.nio.rooms:
                return pending
            del self._pending_dm[user_id]  # synced now: checked like any other below
        for room_id in self.direct_rooms.get(user_id, []):
            room = self.nio.rooms.get(room_id)
            if room is None and room_id not in self.nio.invited_rooms:
                # Not synced yet (the bot just started): the m.direct entry is all we know, and
                # a room we have left would have been dropped from it.
                if not self.synced.is_set():
                    return room_id
                continue
            if room is not None and (user_id in room.users or user_id in room.invited_users):
                return room_id
        unrecorded = self._unrecorded_dm(user_id)
        if unrecorded is not None:
            await self._remember_direct(user_id, unrecorded)
            return unrecorded
        initial_state = []
        if self.options.e2ee and self.options.encrypt_new_rooms:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        response = check(
            await self.nio.room_create(
                is_direct=True,
                invite=[user_id],
                preset=nio.RoomPreset.trusted_private_chat,
                initial_state=initial_state,
            )
        )
        self._pending_dm[user_id] = str(response.room_id)
        try:
            await self._remember_direct(user_id, response.room_id)
        except Exception:  # the room exists and works; a stale m.direct only costs a lookup later
            log.warning("could not record the DM room with %s in m.direct", user_id, exc_info=True)
        return str(response.room_id)

    def _unrecorded_dm(self, user_id: str) -> str | None:
        """A DM room the bot made for this person and never wrote into `m.direct`.

        A bot killed between the homeserver creating the room and the `m.direct` write would
        otherwise make a second one after its restart, and the person would be invited twice.
        Such a room is known by what it is: made by the bot, unnamed (the only other rooms the
        bot makes, incident rooms, have names), and holding just the two of them.
        """
        for room_id, room in self.nio.rooms.items():
            if self.user_id not in self._creators.get(room_id, set()) or room.name:
                continue
            if {*room.users, *room.invited_users} == {self.user_id, user_id}:
                return room_id
        return None

    def dm_owners(self) -> dict[str, str]:
        """DM room id → the person it is with, including rooms created but not yet synced."""
        owners = {room: user for user, rooms in self.direct_rooms.items() for room in rooms}
        owners.update({room: user for user, room in self._pending_dm.items()})
        return owners

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        rooms = self.direct_rooms.setdefault(user_id, [])
        if room_id in rooms:
            return
        rooms.insert(0, room_id)
        # One write at a time, each with the whole map as it stands: DM rooms created
        # concurrently cannot overwrite one another's entries.
        async with self._direct_lock:
            for user, pending in self._pending_dm.items():
                known = self.direct_rooms.setdefault(user, [])
                if pending not in known:
                    known.insert(0, pending)
            path = f"/_matrix/client/v3/user/{quote(self.user_id)}/account_data/m.direct"
            headers = {"Authorization": f"Bearer {self.nio.access_token}", "Content-Type": "application/json"}
            response = await self.nio.send("PUT", path, json.dumps(self.direct_rooms), headers=headers)
            if response.status >= 400:
                raise MatrixError(f"m.direct update failed with HTTP {response.status}")
