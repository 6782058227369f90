"""Chat commands through the real application wiring, without a homeserver.

`DispatchChat` feeds events to `zhiban.app.build_dispatcher` (every feature's router, the
exactly-once middleware, preferences, roles, the error replies) and reads back what the bot
would send from the outbox, marking it sent as the relay would. Use it with the `db` fixture
so each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.dispatcher import Dispatcher
from bot.errors import MatrixError
from bot.types import Message, ReactionEvent
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage
from zhiban.app import build_dispatcher

_ids = itertools.count()


class PowerLevels:
    """The parts of the bot client chat tests reach: power levels ({(room, user): level}), and an
    upload and an invitation that fail as a homeserver's refusal would."""

    def __init__(self, levels: Mapping[tuple[str, str], int] | None = None) -> None:
        self.levels = dict(levels or {})

    def power_level(self, room_id: str, user_id: str) -> int:
        return self.levels.get((room_id, user_id), 0)

    async def upload(self, data: bytes, *, content_type: str, filename: str) -> str:
        # No media repository without a homeserver: features fall back as for a refusal.
        raise MatrixError(f"no homeserver to upload {filename} to")

    async def invite(self, room_id: str, user_id: str) -> None:
        # No rooms without a homeserver: an invitation is refused, as a homeserver may.
        raise MatrixError(f"no homeserver to invite {user_id} to {room_id}")


class DispatchChat:
    """Feeds chat events to the real dispatcher and returns what the bot would send.

    `room` is where `say` speaks by default; `roles` is the config's org chart
    ({"admin": ["@a:x"]}); `power` gives room power levels ({(room, user): 100}).
    """

    def __init__(
        self,
        db: Database,
        clock: FrozenClock,
        *,
        room: str,
        roles: Mapping[str, list[str]] | None = None,
        power: Mapping[tuple[str, str], int] | None = None,
        **settings: Any,
    ) -> None:
        self.db = db
        self.clock = clock
        self.room = room
        self.settings = Settings(data_dir=Path(tempfile.mkdtemp()), roles=dict(roles or {}), **settings)
        self.dispatcher: Dispatcher = build_dispatcher(
            self.settings, db, clock=clock, extra_context={"client": PowerLevels(power)}
        )

    async def _feed(self, event: Message | ReactionEvent) -> list[OutboxMessage]:
        async with self.db.reading() as session:
            last = await session.scalar(select(func.max(OutboxMessage.id))) or 0
        await self.dispatcher.feed(event)
        async with self.db.transaction() as session:
            rows = list(
                await session.scalars(select(OutboxMessage).where(OutboxMessage.id > last).order_by(OutboxMessage.id))
            )
            for row in rows:  # what the relay does once Matrix accepted them
                row.event_id = f"$out{row.id}"
                row.sent_at = self.clock.now()
        return rows

    async def say(self, sender: str, body: str, room: str | None = None, *, dm: bool = False) -> list[OutboxMessage]:
        """`dm`: the room is the sender's direct chat with the bot."""
        n = next(_ids)
        message = Message(
            room_id=room or self.room,
            event_id=f"$in{n}",
            sender=sender,
            timestamp_ms=n,
            source={},
            body=body,
            is_dm=dm,
        )
        return await self._feed(message)

    async def react(self, sender: str, event_id: str, key: str, room: str | None = None) -> list[OutboxMessage]:
        n = next(_ids)
        event = ReactionEvent(
            room_id=room or self.room,
            event_id=f"$re{n}",
            sender=sender,
            timestamp_ms=n,
            source={},
            key=key,
            reacts_to=event_id,
        )
        return await self._feed(event)

    async def reply_to(self, sender: str, body: str, room: str | None = None, *, dm: bool = False) -> str:
        """The one answer, in the room where it was asked, to a message (edits of cards it
        caused are not answers)."""
        where = room or self.room
        sent = await self.say(sender, body, where, dm=dm)
        answers = [r for r in sent if r.room_id == where and r.relation != "m.replace"]
        assert len(answers) == 1, [r.content.get("body") for r in answers]
        return str(answers[0].content["body"])
