"""Answers that name people: written with Matrix IDs, read with display names.

A feature's reply text is written as the services know people (`@zhao:office`); here every ID
becomes the person's display name in the plain body and a pill in the HTML (see
`notifications.names`), as the outbox does for notices and DMs.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import Message
from notifications.names import names_for


async def reply_named(message: Message, session: AsyncSession, text: str, *, ref: str | None = None) -> None:
    """Answer `message` with `text`, its people shown by name (pills in the HTML)."""
    names = await names_for(session, text)
    await message.reply(names.plain(text), names.html(text), ref=ref)
