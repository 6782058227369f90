"""The card filter: a reaction on a card of one kind reaches that kind's handler with the card's
values; a reaction on another kind of card, or on a message the bot never sent as a card, does not."""

from __future__ import annotations

from typing import Any

from bot import Dispatcher, ReactionEvent, Router
from bot.filters import OnCard, Reaction
from tests.bot.fakes import message, reaction

# What the bot sent, by event id: the application's record (the outbox), here a plain dict.
SENT = {"$card": "card:A12", "$notice": "meeting:M3", "$plain": None}


async def sent_ref(data: dict[str, Any], event_id: str) -> str | None:
    return SENT.get(event_id)


def approval_card(ref: str) -> dict[str, int] | None:
    return {"approval_id": int(ref[6:])} if ref.startswith("card:A") else None


def deciding() -> tuple[Dispatcher, list[tuple[str, int]]]:
    decided: list[tuple[str, int]] = []
    dp = Dispatcher()
    router = Router("approvals")

    @router.reaction(Reaction("✅", "❌"), OnCard(sent_ref, approval_card))
    async def decide(reaction: ReactionEvent, approval_id: int) -> None:
        decided.append((reaction.key, approval_id))

    dp.include_router(router)
    return dp, decided


async def test_a_reaction_on_a_card_of_the_kind_reaches_its_handler_with_the_card() -> None:
    dp, decided = deciding()
    await dp.feed(reaction("✅", "$card"))
    assert decided == [("✅", 12)]


async def test_other_kinds_plain_messages_and_non_reactions_are_not_taken() -> None:
    dp, decided = deciding()
    await dp.feed(reaction("✅", "$notice"))  # a card of another kind
    await dp.feed(reaction("✅", "$plain"))  # a message sent without a name
    await dp.feed(reaction("✅", "$someone-else"))  # not sent by the bot at all
    await dp.feed(message("✅"))
    assert decided == []


async def test_the_filter_alone_gives_the_values_or_declines() -> None:
    on_approval = OnCard(sent_ref, approval_card)
    assert await on_approval(reaction("❌", "$card"), {}) == {"approval_id": 12}
    assert await on_approval(reaction("❌", "$notice"), {}) is False
    assert await on_approval(message("card:A12"), {}) is False
