"""One chat turn as the features see it: everything a handler works with, typed.

The exactly-once middleware (zhiban.middlewares) builds a `Turn` for every event and hands it
to handlers as `turn`, so a handler takes `(message, command, turn)` instead of eight loose
values typed `Any`, and passes the one object down to its helpers. It lives on the features'
ground floor (not in bot/, which knows nothing of offices and of records) so that every
feature, emergency included, may import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from bot.fsm import FSMContext
from bot.i18n import Catalog, Translator, translator
from bot.mentions import text_with_ids
from bot.types import Message
from records.clock import Clock
from records.config import Settings
from records.db import Database
from records.directory import PeopleDirectory
from records.people import RoleBook


class RoleResolver(Protocol):
    """A person's roles: from config and the database, plus admin for room power level 100.

    Without a room, the room of the turn decides the power level.
    """

    async def __call__(self, user_id: str, room_id: str | None = None) -> set[str]: ...


@dataclass(frozen=True)
class Turn:
    """What one event's handlers work with; built once per event, never changed."""

    session: AsyncSession  # the turn's transaction: the ledger row, the outbox, the records
    clock: Clock
    settings: Settings
    roles: RoleBook
    client: BotClient
    state: FSMContext  # the sender's wizard state in this room (and thread)
    catalog: Catalog
    t: Translator  # texts in the sender's language
    lang: str
    tz: str  # the sender's time zone name
    directory: PeopleDirectory  # the people a message names
    resolve_roles: RoleResolver
    db: Database

    def full_text(self, message: Message) -> str:
        """The message with every mention as a full Matrix ID (pills resolved, a short `@name`
        completed on the bot's own server)."""
        return text_with_ids(message.body, message.html, self.settings.matrix.server_name)

    def t_in(self, lang: str | None) -> Translator:
        """Texts in another language: for a reply meant for someone other than the sender."""
        return translator(self.catalog, lang)
