"""The board hub's wake-ups, with a stand-in source: who is woken by a change, how the open
streams' sessions are checked (one query for all of them, however many wake), and that a
stream whose session ended is ended before it is sent anything more."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Collection, Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from board_fake import FakeSource, board

from server.board import BoardChange, BoardHub, JsonObject, Key

ZHENG, CHU, WEI = "@zheng:office.test", "@chu:office.test", "@wei:office.test"
BOUND = 20.0


class Sessions:
    """Which session secrets are live, and how often the hub asked."""

    def __init__(self, live: dict[str, str]) -> None:
        self.live = live
        self.asked: list[set[str]] = []

    async def check(self, secrets: Collection[str]) -> Mapping[str, str]:
        self.asked.append(set(secrets))
        return {secret: user for secret, user in self.live.items() if secret in secrets}


async def test_one_session_query_for_every_stream_a_wake_up_wakes() -> None:
    hub = BoardHub(FakeSource({ZHENG: board("请示"), CHU: board("另一件"), WEI: board("第三件")}))
    sessions = Sessions({"s-zheng": ZHENG, "s-chu": CHU, "s-wei": WEI})
    with (
        hub.waiter(ZHENG, "s-zheng", sessions.check) as zheng,
        hub.waiter(CHU, "s-chu", sessions.check) as chu,
        hub.waiter(WEI, "s-wei", sessions.check) as wei,
    ):
        hub.changed()
        async with asyncio.timeout(BOUND):
            await asyncio.gather(zheng.wait(), chu.wait(), wei.wait())
            answers = await asyncio.gather(*(hub.signed_in(wake) for wake in (zheng, chu, wei)))
        assert answers == [True, True, True]
        assert sessions.asked == [{"s-zheng", "s-chu", "s-wei"}], "one query, not one per stream"


async def test_a_signed_out_stream_is_ended_and_a_change_for_others_does_not_wake_it() -> None:
    hub = BoardHub(FakeSource({ZHENG: board("请示"), CHU: board("另一件")}))
    sessions = Sessions({"s-zheng": ZHENG, "s-chu": CHU})
    with hub.waiter(ZHENG, "s-zheng", sessions.check) as zheng, hub.waiter(CHU, "s-chu", sessions.check) as chu:
        await hub.snapshot(ZHENG, "zh")
        await hub.snapshot(CHU, "zh")
        # A change that names only Chu's board wakes Chu's stream alone.
        hub.changed(BoardChange(sections=frozenset({"approvals"}), people=frozenset({CHU})))
        async with asyncio.timeout(BOUND):
            await chu.wait()
        assert not zheng.is_set()
        # Zheng signs out; the next wake-up's check ends the stream before any board goes out.
        del sessions.live["s-zheng"]
        hub.changed()
        async with asyncio.timeout(BOUND):
            await zheng.wait()
            assert not await hub.signed_in(zheng)
        assert hub.ended(zheng) and not hub.ended(chu)
        # A session that is not a live one for that person (another person's secret) is no better.
    with hub.waiter(WEI, "s-chu", sessions.check) as wei:
        hub.changed()
        async with asyncio.timeout(BOUND):
            await wei.wait()
            assert not await hub.signed_in(wei)


async def test_a_change_that_names_no_section_wakes_nobody() -> None:
    source = FakeSource({ZHENG: board("请示")})
    hub = BoardHub(source)
    with hub.waiter(ZHENG) as zheng:
        await hub.snapshot(ZHENG, "zh")
        reads = source.snapshots
        hub.changed(BoardChange(sections=frozenset()))
        await asyncio.sleep(0.1)  # past the coalescing wait; nothing is to happen
        assert not zheng.is_set() and source.snapshots == reads


class GatedSource(FakeSource):
    """Reads boards together only once the test opens the gate (a batch under way)."""

    def __init__(self, boards: dict[str, JsonObject]) -> None:
        super().__init__(boards)
        self.gate = asyncio.Event()

    async def read_many(self, only: frozenset[str], boards: Mapping[Key, JsonObject]) -> dict[Key, JsonObject]:
        await self.gate.wait()
        return await super().read_many(only, boards)


async def test_a_wake_up_for_others_during_a_batch_does_not_make_its_boards_read_alone() -> None:
    source = GatedSource({ZHENG: board("请示"), CHU: board("另一件")})
    hub = BoardHub(source)
    with hub.waiter(ZHENG) as zheng, hub.waiter(CHU) as chu:
        await hub.snapshot(ZHENG, "zh")
        await hub.snapshot(CHU, "zh")
        source.boards[ZHENG] = board("请示", "新的一件")
        hub.changed(BoardChange(sections=frozenset({"approvals"}), people=frozenset({ZHENG})))
        async with asyncio.timeout(BOUND):
            await zheng.wait()
        # While Zheng's board is being read with the batch, a change for Chu alone comes.
        hub.changed(BoardChange(people=frozenset({CHU})))
        async with asyncio.timeout(BOUND):
            await chu.wait()
        reads = source.snapshots
        asking = asyncio.ensure_future(hub.snapshot(ZHENG, "zh"))
        await asyncio.sleep(0)
        source.gate.set()
        async with asyncio.timeout(BOUND):
            got = await asking
        assert titles(got) == ["请示", "新的一件"]
        assert source.snapshots - reads == 1, "Zheng's board is read once, with the batch"


def titles(found: JsonObject) -> list[str]:
    sections = found["sections"]
    assert isinstance(sections, list)
    return [item["title"] for item in sections[0]["items"]]
