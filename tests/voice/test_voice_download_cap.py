"""A voice file larger than the cap is refused while it downloads, whatever size its sender declared.

A real media server (aiohttp) serves the file; the real dispatcher handles the event and the
bot's real client downloads it as the relay's "voice.fetch" action. The event claims 1 kB; the
file is 24 MB. The old code fetched all of it and only then compared; now the download stops
just past the cap, no audio or job is stored, and the ⏳ waiting behind the fetch never goes out.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot import BotClient
from bot.types import Media, Message
from commands.voice.models import VoiceAudio, VoiceNote
from records import outbox_actions
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import OutboxMessage, Timer
from records.outbox_actions import ACTION
from tests.commands.test_tasks_chat import T0
from tests.support.media_server import HUGE, LyingMediaServer, bot_client
from zhiban.app import build_dispatcher

ROOM = "!voice:localhost"
ALICE = "@alice:localhost"
CAP = 100_000


@pytest.fixture
async def media_server() -> AsyncIterator[LyingMediaServer]:
    """/small is a short Ogg file; /big (chunked, no length: only the count tells) and /announced
    (a large length) are 24 MB."""
    small = {"small": b"OggS" + b"\x00" * 996}
    async with LyingMediaServer("audio/ogg", filler=b"\x00", small=small).running() as media:
        yield media


@pytest.fixture
async def client(media_server: LyingMediaServer) -> AsyncIterator[BotClient]:
    async with bot_client(media_server.url) as bot:
        yield bot


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
        actions = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == ACTION)))
    for action in actions:  # what the relay does once the handler has committed
        await outbox_actions.run(db, client, action)
    async with db.reading() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.failed.is_(False)).order_by(OutboxMessage.id)
        )
        return [row for row in rows if row.event_type != ACTION]  # what would reach the room


async def _stored(db: Database) -> tuple[int, int, int]:
    async with db.reading() as session:
        notes = await session.scalar(select(func.count()).select_from(VoiceNote))
        audio = await session.scalar(select(func.count()).select_from(VoiceAudio))
        timers = await session.scalar(select(func.count()).select_from(Timer))
    return int(notes or 0), int(audio or 0), int(timers or 0)


@pytest.mark.parametrize("media_id", ["big", "announced"])
async def test_a_file_bigger_than_declared_is_refused_mid_download(
    db: Database, client: BotClient, media_server: LyingMediaServer, media_id: str
) -> None:
    media = media_server
    sent = await _send_voice(db, client, media_id, declared=1000)

    bodies = [str(row.content.get("body", "")) for row in sent]
    refusal = [b for b in bodies if "太大" in b]
    assert refusal, bodies
    assert "上限为 0.0953674 MB" in refusal[0]  # the existing bilingual text, with the real cap
    assert any(row.content.get("m.relates_to", {}).get("key") == "⚠️" for row in sent)
    assert await _stored(db) == (1, 0, 0)  # the note, refused: no bytes kept, no job queued
    assert not any(row.content.get("m.relates_to", {}).get("key") == "⏳" for row in sent)

    # The download stopped near the cap: the server never got to write the 24 MB (reading it
    # all, as before, returns only after every write went through).
    assert media_id not in media.finished
    assert 0 < media.sent[media_id] < HUGE


async def test_a_small_file_still_goes_through(db: Database, client: BotClient) -> None:
    sent = await _send_voice(db, client, "small", declared=1000)
    assert any(row.content.get("m.relates_to", {}).get("key") == "⏳" for row in sent), sent
    notes, audio, _ = await _stored(db)
    assert (notes, audio) == (1, 1)
