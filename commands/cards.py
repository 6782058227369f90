"""Reactions on the cards and notices the bot sent: the features' one way to know which is which.

The outbox keeps the name each sent message was given ("card:A12", "meeting:M3:notice:@x");
a feature says which names are its kind of card, and `bot.filters.OnCard` does the rest.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CardKind, FilterFunc, OnCard
from records import outbox


async def sent_ref(data: dict[str, object], event_id: str) -> str | None:
    """The name of the message the bot sent as `event_id`; None when it sent no such message
    (or when no session is at hand: `data` is the framework's dict of values of every kind)."""
    session = data.get("session")
    if not isinstance(session, AsyncSession):
        return None
    return await outbox.ref_for_event(session, event_id)


def on_card(kind: CardKind) -> FilterFunc:
    """A reaction on a card (or notice) of `kind`, found through the outbox."""
    return OnCard(sent_ref, kind)
