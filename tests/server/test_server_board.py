"""The board's routes with a stand-in source: JSON, the live stream and its resumption, actions.

The server is served by uvicorn on a loopback port, so the stream is read as a browser reads it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from board_fake import FakeSource, board
from live_server import serve
from push_env import make_settings
from sse import ServerEvent, events, next_board

from notifications import signin
from records.clock import SystemClock
from records.config import Settings
from records.db import Database
from records.migrate import upgrade_async
from server.app import create_app
from server.board import digest

USER = "@zheng:office.test"
OTHER = "@chu:office.test"
# Bounds for a test that would otherwise hang on a broken stream; never a timing assertion.
BOUND = 20.0


async def link(settings: Settings, user: str) -> str:
    db = Database(settings.database_url)
    async with db.transaction() as session:
        token = await signin.create_link(session, user, minutes=15, clock=SystemClock())
    await db.dispose()
    return token


@asynccontextmanager
async def board_server(tmp_path: Path, source: FakeSource) -> AsyncIterator[tuple[Settings, str]]:
    settings = make_settings(tmp_path)
    await upgrade_async(settings.database_url)
    async with serve(create_app(settings, extra={"board_source": source})) as base_url:
        yield settings, base_url


@asynccontextmanager
async def signed_in(settings: Settings, base_url: str, user: str = USER) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=BOUND) as client:
        token = await link(settings, user)
        done = await client.post(f"/push/signin/{token}?next=/board")
        assert done.status_code == 303
        assert done.headers["location"] == "/board/", "the board's sign-in link leads back to the board"
        yield client


async def test_board_json_is_the_signed_in_persons(tmp_path: Path) -> None:
    source = FakeSource({USER: board("防汛物资采购"), OTHER: board("别人的请示")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with httpx.AsyncClient(base_url=base_url) as anonymous:
            refused = await anonymous.get("/api/board")
            assert refused.status_code == 401
            assert (await anonymous.get("/board")).headers["location"] == "/board/"
            page = await anonymous.get("/board/")
            assert page.status_code == 200 and "board.js" in page.text
            assert "script-src" not in page.headers["content-security-policy"]  # default-src 'self' only
        async with signed_in(settings, base_url) as client:
            answer = await client.get("/api/board", params={"lang": "en"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["lang"] == "en"
    assert [item["title"] for item in body["sections"][0]["items"]] == ["防汛物资采购"]
    assert answer.headers["etag"] == f'"{digest(body)}"'
    assert answer.headers["cache-control"] == "no-store"


async def test_a_sign_in_link_leads_nowhere_but_our_pages(tmp_path: Path) -> None:
    async with board_server(tmp_path, FakeSource()) as (settings, base_url):
        async with httpx.AsyncClient(base_url=base_url) as client:
            token = await link(settings, USER)
            page = await client.get(f"/push/signin/{token}", params={"next": "/board"})
            assert 'action="/push/signin/' in page.text and "?next=/board/" in page.text
            done = await client.post(f"/push/signin/{token}", params={"next": "https://evil.example/"})
    assert done.headers["location"] == "/push/"


async def test_stream_sends_changes_and_resumes_from_last_event_id(tmp_path: Path) -> None:
    source = FakeSource({USER: board("防汛物资采购")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with signed_in(settings, base_url) as client:
            async with client.stream("GET", "/api/board/events") as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                stream = events(response)
                first = await asyncio.wait_for(next_board(stream), BOUND)
                assert first.event == "board" and first.id == digest(first.json())
                # A commit elsewhere: the data changes and a wake-up arrives; the open stream sends it.
                source.commit(USER, board("防汛物资采购", "值班车辆调度"))
                second = await asyncio.wait_for(next_board(stream), BOUND)
                titles = [i["title"] for i in second.json()["sections"][0]["items"]]  # type: ignore[index]
                assert titles == ["防汛物资采购", "值班车辆调度"]
                # A wake-up that changed nothing of this person's board sends nothing.
                source.commit(OTHER, board("别人的请示"))
                source.commit(USER, board("防汛物资采购"))
                third = await asyncio.wait_for(next_board(stream), BOUND)
                assert third.id != second.id and len(third.json()["sections"][0]["items"]) == 1  # type: ignore[index, arg-type]

            # Reconnecting with the id of what the browser has: the stream opens without the board ...
            async with client.stream("GET", "/api/board/events", headers={"Last-Event-ID": third.id}) as response:
                stream = events(response)
                opened = await asyncio.wait_for(anext(stream), BOUND)
                assert opened.event == "retry"
                source.commit(USER, board("防汛物资采购", late=True))
                resumed = await asyncio.wait_for(anext(stream), BOUND)
            # ... but the first event after it is the change made meanwhile.
            assert resumed.json()["sections"][0]["items"][0]["late"] is True  # type: ignore[index]

            # A browser that missed a change while away gets the current board at once.
            async with client.stream("GET", "/api/board/events", headers={"Last-Event-ID": third.id}) as response:
                current = await asyncio.wait_for(next_board(events(response)), BOUND)
            assert current.id == resumed.id


async def test_an_open_stream_ends_once_its_session_is_signed_out(tmp_path: Path) -> None:
    source = FakeSource({USER: board("防汛物资采购")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with signed_in(settings, base_url) as client:
            async with client.stream("GET", "/api/board/events") as response:
                stream = events(response)
                await asyncio.wait_for(next_board(stream), BOUND)
                # Signed out from another tab (the same cookie): the open board must not go on.
                async with httpx.AsyncClient(base_url=base_url, cookies=client.cookies, timeout=BOUND) as tab:
                    assert (await tab.post("/push/signout")).status_code in (200, 303)
                source.commit(USER, board("防汛物资采购", "值班车辆调度"))
                served = await asyncio.wait_for(_until_end_or_board(stream), BOUND)
    assert served is None, "a signed-out browser was sent the changed board"


async def _until_end_or_board(stream: AsyncIterator[ServerEvent]) -> ServerEvent | None:
    """The next board the stream serves, or None when it ends first."""
    async for event in stream:
        if event.event == "board":
            return event
    return None


async def test_one_person_keeps_a_bounded_number_of_open_streams(tmp_path: Path) -> None:
    from server.board import STREAMS_PER_PERSON

    source = FakeSource({USER: board("防汛物资采购"), OTHER: board("别人的请示")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with signed_in(settings, base_url) as client, signed_in(settings, base_url, OTHER) as other:
            async with AsyncExitStack() as opened:
                streams = []
                for _ in range(STREAMS_PER_PERSON):
                    response = await opened.enter_async_context(client.stream("GET", "/api/board/events"))
                    streams.append(events(response))
                    await asyncio.wait_for(next_board(streams[-1]), BOUND)
                theirs = events(await opened.enter_async_context(other.stream("GET", "/api/board/events")))
                await asyncio.wait_for(next_board(theirs), BOUND)
                # One more of the same person: the oldest (a tab long gone, most likely) is ended.
                newest = events(await opened.enter_async_context(client.stream("GET", "/api/board/events")))
                await asyncio.wait_for(next_board(newest), BOUND)
                assert await asyncio.wait_for(_until_end_or_board(streams[0]), BOUND) is None
                # The others, and another person's, stay live.
                source.commit(USER, board("防汛物资采购", "值班车辆调度"))
                source.commit(OTHER, board("别人的请示", "另一件"))
                for stream in [*streams[1:], newest, theirs]:
                    assert await asyncio.wait_for(_until_end_or_board(stream), BOUND) is not None


async def test_actions_reach_the_source_and_wake_the_streams(tmp_path: Path) -> None:
    source = FakeSource({USER: board("防汛物资采购")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with signed_in(settings, base_url) as client:
            before = source.snapshots
            done = await client.post(
                "/api/board/actions",
                json={"kind": "approve", "ref": "a1", "key": "k-0001-abcdef", "opinion": " 同意 ", "lang": "zh"},
            )
            refused = await client.post(
                "/api/board/actions", json={"kind": "reject", "ref": "A1", "key": "k-0002-abcdef"}
            )
            bad_kind = await client.post(
                "/api/board/actions", json={"kind": "delete", "ref": "A1", "key": "k-3-abcdef"}
            )
            bad_key = await client.post("/api/board/actions", json={"kind": "approve", "ref": "A1", "key": "short"})
            foreign = await client.post(
                "/api/board/actions",
                json={"kind": "approve", "ref": "A1", "key": "k-0004-abcdef"},
                headers={"Sec-Fetch-Site": "cross-site"},
            )
            again = await client.get("/api/board")
    assert done.status_code == 200
    assert done.json() == {
        "ok": True,
        "code": "approval.approved_reply",
        "message": "🎉 A1 审批通过。",
        "replayed": False,
    }
    assert refused.status_code == 409 and refused.json()["message"] == "驳回须写明理由。"
    assert bad_kind.status_code == 422 and bad_key.status_code == 422
    assert foreign.status_code == 403
    [(user, action), _] = source.actions
    assert (user, action.kind, action.ref, action.opinion, action.key) == (
        USER,
        "approve",
        "A1",
        "同意",
        "k-0001-abcdef",
    )
    assert again.status_code == 200 and source.snapshots > before


async def test_refused_actions_do_not_make_every_open_board_read_again(tmp_path: Path) -> None:
    source = FakeSource({USER: board("防汛物资采购"), OTHER: board("别人的请示")})
    async with board_server(tmp_path, source) as (settings, base_url):
        async with signed_in(settings, base_url) as client, signed_in(settings, base_url, OTHER) as other:
            async with other.stream("GET", "/api/board/events") as response:
                stream = events(response)
                await asyncio.wait_for(next_board(stream), BOUND)
                before = source.snapshots
                # Someone posting refused actions in a loop changes nothing, so no board is read again.
                for n in range(5):
                    refused = await client.post(
                        "/api/board/actions", json={"kind": "reject", "ref": "A1", "key": f"k-000{n}-refused"}
                    )
                    assert refused.status_code == 409
                source.commit(OTHER, board("别人的请示", "另一件"))
                await asyncio.wait_for(next_board(stream), BOUND)
    assert source.snapshots - before == 1, "one read for the one real change"


async def test_without_a_source_the_board_says_so(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    await upgrade_async(settings.database_url)
    async with serve(create_app(settings)) as base_url:
        async with signed_in(settings, base_url) as client:
            answer = await client.get("/api/board")
    assert answer.status_code == 503 and answer.json()["error"] == "board_off"


@pytest.mark.parametrize("path", ["/api/board", "/api/board/events"])
async def test_board_reads_count_against_the_address_limit(path: str, tmp_path: Path) -> None:
    from server.ratelimit import Limits

    settings = make_settings(tmp_path)
    limits = Limits.create(settings.server, SystemClock())
    assert limits.for_path(path) is limits.api_address
