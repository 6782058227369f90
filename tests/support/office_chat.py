"""A chat through the real dispatcher in an office room whose members the bot knows.

The command grammar tests and the commands table both need the bot to know who is in the room
and which accounts exist, so that a near miss, a missing argument and an unknown person each get
the answer a user would see.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat, PowerLevels

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
LI = "@li:localhost"
BOT = "@zhiban:localhost"


class OfficeClient(PowerLevels):
    """The bot client as the commands see it: power levels, the room's members, the accounts."""

    user_id = BOT

    def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    def members(self, room_id: str) -> dict[str, str | None]:
        return {BOSS: "老板", LI: "李娜", BOT: "值班助手"}

    async def registered(self, user_id: str) -> bool:
        return user_id in (BOSS, LI, BOT)


def office_chat(
    db: Database, clock: FrozenClock | None = None, *, roles: Mapping[str, list[str]] | None = None
) -> DispatchChat:
    chat = DispatchChat(db, clock or FrozenClock(T0), room=ROOM, roles=roles)
    chat.dispatcher.context["client"] = OfficeClient()
    return chat
