"""Features plug in as typed objects: each dispatcher gets routers of its own, and every
handler is handed one typed turn with what it works with."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import Router
from bot.types import Message
from commands.record_search import SearchHit
from commands.turn import Turn
from commands.voice import service as voice_service
from commands.voice.feature import voice_feature
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from zhiban.features import FEATURES

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
ALICE = "@alice:office.example"
ROOM = "!duty:office.example"


async def test_a_second_bot_in_the_same_process_leaves_the_first_one_answering(db: Database) -> None:
    # A standby bot (or a second test) builds its own dispatcher; the first must keep its commands.
    first = DispatchChat(db, FrozenClock(T0), room=ROOM)
    second = DispatchChat(db, FrozenClock(T0), room=ROOM)
    for chat in (first, second):
        [reply] = await chat.say(ALICE, "!我是谁")
        assert ALICE in reply.content["body"]


async def test_every_feature_makes_fresh_routers_with_its_commands() -> None:
    for feature in FEATURES:
        one, two = feature.router(), feature.router()
        assert one is not two and one.parent is None and two.parent is None
        assert [c.name for c in one.commands()] == [c.name for c in two.commands()]
    names = [feature.name for feature in FEATURES]
    assert names[:2] == ["general", "push"] and len(set(names)) == len(names)


async def test_a_handler_is_handed_the_turn_in_the_senders_language_and_zone(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room=ROOM, roles={"leader": [ALICE]})
    seen: list[tuple[Turn, set[str]]] = []
    probe = Router("probe")

    async def look(message: Message, turn: Turn) -> None:
        seen.append((turn, await turn.resolve_roles(message.sender)))
        await message.reply(turn.t("ping.pong"))

    probe.message()(look)
    chat.dispatcher.include_router(probe)
    await chat.say(ALICE, "!lang en")
    await chat.say(ALICE, "!tz Europe/London")
    [reply] = await chat.say(ALICE, "hello there")
    [(turn, roles)] = seen
    assert reply.content["body"].startswith("🏓 Online")
    assert (turn.lang, turn.tz) == ("en", "Europe/London") and "leader" in roles


async def test_a_feature_joins_search_by_listing_its_searcher_in_its_plug_in(db: Database) -> None:
    # `!搜索` finds what a feature's searcher returns once the wiring hands it to voice; nothing
    # is joined by importing a feature module any more.
    hit = SearchHit(kind="task", code="T99", at=T0, author=ALICE, room_id=ROOM, text="蓄滞洪区 巡查")

    async def probe(session: object, *, user: str, room_id: str, terms: object, limit: int, roles: object) -> list:
        return [hit] if user == ALICE else []

    voice_feature(searchers=(probe,))
    try:
        body = await DispatchChat(db, FrozenClock(T0), room=ROOM).reply_to(ALICE, "!搜索 蓄滞洪区")
    finally:
        voice_service.unregister_searcher(probe)
    assert "T99" in body and "巡查" in body, body
    searching = {feature.name for feature in FEATURES if feature.searchers}
    assert searching == {"approvals", "meetings", "tasks"}
