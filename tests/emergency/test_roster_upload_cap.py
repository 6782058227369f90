"""A roster CSV posted in the duty room is downloaded under a byte cap, whatever size it declares.

A real media server (aiohttp) serves the files; the bot's real client downloads them through the
real dispatcher. The old handler read a file of any size into memory (and into the CSV parser)
before looking at it; now a file over the cap is refused with a bilingual answer, the download
stops just past the cap, and nothing is imported.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot import BotClient, ClientOptions, Dispatcher
from bot.client import MemoryTokenStore
from bot.types import Media, Message
from emergency.handlers_duty import ROSTER_MAX_BYTES
from emergency.models import Shift
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from tests.emergency.test_emergency_chat import LEADER, ROOM, T0
from zhiban.app import build_dispatcher
from zhiban.settings import MatrixSettings, Settings

TOKEN = "secret-token"
HUGE = 24 * 1024 * 1024
CHUNK = 64 * 1024
ROSTER = b"date,start,end,leader,officers,note\n2026-11-26,08:30,08:30,@zhang:localhost,@li:localhost,\n"
# A roster row repeated: a well-formed file, only far too long.
ROW = b"2026-11-27,08:30,17:30,@zhao:localhost,@qian:localhost,\xe7\x99\xbd\xe7\x8f\xad\n"


@dataclass
class MediaServer:
    """Serves /roster (a small roster), /huge (chunked, no length) and /announced (a large length)."""

    sent: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"errcode": "M_MISSING_TOKEN"}, status=401)
        name = request.match_info["media_id"]
        self.sent[name] = 0
        if name == "roster":
            return web.Response(body=ROSTER, content_type="text/csv")
        response = web.StreamResponse(headers={"Content-Type": "text/csv"})
        if name == "announced":
            response.content_length = HUGE
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        block = ROW * (CHUNK // len(ROW))
        try:
            while self.sent[name] < HUGE:
                await response.write(block)
                self.sent[name] += len(block)
            await response.write_eof()
            self.finished.add(name)
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client hung up: what we want
        return response


@pytest.fixture
async def media_server() -> AsyncIterator[tuple[MediaServer, str]]:
    media = MediaServer()
    app = web.Application()
    app.router.add_get("/_matrix/client/v1/media/download/{server}/{media_id}", media.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield media, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def client(media_server: tuple[MediaServer, str]) -> AsyncIterator[BotClient]:
    bot = BotClient(
        ClientOptions(homeserver=media_server[1], user_id="@zhiban:localhost", e2ee=False),
        Dispatcher(),
        token_store=MemoryTokenStore(),
    )
    bot.nio.access_token = TOKEN
    yield bot
    await bot.close()


async def _upload(db: Database, client: BotClient, media_id: str, declared: int | None, lang: str = "zh") -> str:
    """A duty leader posts `media_id` as roster.csv; returns the bot's answer."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()),
        matrix=MatrixSettings(user_id="@zhiban:localhost"),
        roles={"duty_leader": [LEADER]},
        default_lang=lang,
    )
    dispatcher = build_dispatcher(settings, db, clock=FrozenClock(T0), extra_context={"client": client})
    upload = Message(
        room_id=ROOM, event_id=f"$csv-{media_id}-{declared}-{lang}", sender=LEADER, timestamp_ms=1, source={},
        body="roster.csv", msgtype="m.file",
        media=Media(url=f"mxc://localhost/{media_id}", mimetype="text/csv", size=declared, duration_ms=None),
    )  # fmt: skip
    await dispatcher.feed(upload)
    async with db.reading() as session:
        row = await session.scalar(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(1))
    assert row is not None
    return str(row.content.get("body"))


async def _imported(db: Database) -> tuple[int, int]:
    async with db.reading() as session:
        shifts = await session.scalar(select(func.count()).select_from(Shift))
        audit = await session.scalar(select(func.count()).select_from(AuditEntry))
    return int(shifts or 0), int(audit or 0)


@pytest.mark.parametrize(("media_id", "declared"), [("huge", 4000), ("huge", None), ("announced", 4000)])
async def test_a_roster_file_over_the_cap_is_refused_while_it_downloads(
    db: Database,
    client: BotClient,
    media_server: tuple[MediaServer, str],
    media_id: str,
    declared: int | None,
) -> None:
    media, _ = media_server
    answer = await _upload(db, client, media_id, declared)

    assert "值班表文件过大" in answer and "上限为 1,024 KB" in answer, answer
    assert await _imported(db) == (0, 0)
    # The download stopped near the cap: the 24 MB were never all written.
    assert media_id not in media.finished
    assert 0 < media.sent[media_id] < HUGE


async def test_a_declared_size_over_the_cap_is_refused_without_downloading(
    db: Database, client: BotClient, media_server: tuple[MediaServer, str]
) -> None:
    media, _ = media_server
    answer = await _upload(db, client, "huge", ROSTER_MAX_BYTES + 1, lang="en")

    assert "too large (1,025 KB; the limit is 1,024 KB)" in answer, answer
    assert "huge" not in media.sent
    assert await _imported(db) == (0, 0)


async def test_a_roster_under_the_cap_is_imported(db: Database, client: BotClient) -> None:
    answer = await _upload(db, client, "roster", len(ROSTER))

    assert "已导入 1 个班次" in answer, answer
    assert (await _imported(db))[0] == 1
