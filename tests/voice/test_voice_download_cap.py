"""A voice file larger than the cap is refused while it downloads, whatever size its sender declared.

A real media server (aiohttp) serves the file; the bot's real client downloads it through the
real dispatcher. The event claims 1 kB; the file is 24 MB. The old code fetched all of it and only
then compared; now the download stops just past the cap and nothing is stored.
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
from commands.voice.models import VoiceAudio, VoiceNote
from records.clock import FrozenClock
from records.db import Database
from records.models import OutboxMessage, Timer
from tests.commands.test_tasks_chat import T0
from zhiban.app import build_dispatcher
from zhiban.settings import Settings

ROOM = "!voice:localhost"
ALICE = "@alice:localhost"
TOKEN = "secret-token"
CAP = 100_000
HUGE = 24 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class MediaServer:
    """Serves /big (chunked, no length: only the count tells), /announced (a large length) and /small."""

    sent: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"errcode": "M_MISSING_TOKEN"}, status=401)
        name = request.match_info["media_id"]
        if name == "small":
            return web.Response(body=b"OggS" + b"\x00" * 996, content_type="audio/ogg")
        response = web.StreamResponse(headers={"Content-Type": "audio/ogg"})
        if name == "announced":
            response.content_length = HUGE
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        self.sent[name] = 0
        try:
            while self.sent[name] < HUGE:
                await response.write(b"\x00" * CHUNK)
                self.sent[name] += CHUNK
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


async def _send_voice(db: Database, client: BotClient, media_id: str, declared: int) -> list[OutboxMessage]:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), voice={"max_bytes": CAP})
    dispatcher = build_dispatcher(settings, db, clock=FrozenClock(T0), extra_context={"client": client})
    voice = Message(
        room_id=ROOM, event_id=f"$voice-{media_id}", sender=ALICE, timestamp_ms=1, source={},
        body="语音消息.ogg", msgtype="m.audio", is_voice=True,
        media=Media(url=f"mxc://localhost/{media_id}", mimetype="audio/ogg", size=declared, duration_ms=3000),
    )  # fmt: skip
    await dispatcher.feed(voice)
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _stored(db: Database) -> tuple[int, int, int]:
    async with db.reading() as session:
        notes = await session.scalar(select(func.count()).select_from(VoiceNote))
        audio = await session.scalar(select(func.count()).select_from(VoiceAudio))
        timers = await session.scalar(select(func.count()).select_from(Timer))
    return int(notes or 0), int(audio or 0), int(timers or 0)


@pytest.mark.parametrize("media_id", ["big", "announced"])
async def test_a_file_bigger_than_declared_is_refused_mid_download(
    db: Database, client: BotClient, media_server: tuple[MediaServer, str], media_id: str
) -> None:
    media, _ = media_server
    sent = await _send_voice(db, client, media_id, declared=1000)

    bodies = [str(row.content.get("body", "")) for row in sent]
    refusal = [b for b in bodies if "太大" in b]
    assert refusal, bodies
    assert "上限为 0.0953674 MB" in refusal[0]  # the existing bilingual text, with the real cap
    assert any(row.content.get("m.relates_to", {}).get("key") == "⚠️" for row in sent)
    assert await _stored(db) == (0, 0, 0)  # nothing half-written, no job queued

    # The download stopped near the cap: the server never got to write the 24 MB (reading it
    # all, as before, returns only after every write went through).
    assert media_id not in media.finished
    assert 0 < media.sent[media_id] < HUGE


async def test_a_small_file_still_goes_through(db: Database, client: BotClient) -> None:
    sent = await _send_voice(db, client, "small", declared=1000)
    assert any(row.content.get("m.relates_to", {}).get("key") == "⏳" for row in sent), sent
    notes, audio, _ = await _stored(db)
    assert (notes, audio) == (1, 1)
