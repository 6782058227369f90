"""A voice message is recorded by its handler without the homeserver; the relay fetches the audio.

The handler used to download the audio inside its transaction: with the media repository away
it refused the message at once ("could not be fetched, send it again"), and on SQLite it held the
write lock while it waited. Now it records the note and queues a "voice.fetch" action ahead of
its ⏳; the action (run here as the relay runs it, through the bot's real client against a real
aiohttp media server) stores the bytes and schedules the transcription in the one transaction
that ends it. A failure that may pass leaves everything as it was, to be tried again; one that
cannot (no such file, an undecryptable attachment) is answered in the voice message's thread.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from nio.crypto.attachments import encrypt_attachment
from sqlalchemy import func, select

from bot import BotClient
from bot.media import MediaDownloadError
from bot.types import Media, Message
from commands.voice.models import VoiceAudio, VoiceNote
from commands.voice.texts import text
from records import outbox_actions
from records.clock import FrozenClock
from records.config import Settings
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Timer
from records.outbox_actions import ACTION
from tests.commands.test_tasks_chat import T0
from tests.support.media_server import bot_client, serving
from zhiban.app import build_dispatcher

ROOM = "!voice:localhost"
ALICE = "@alice:localhost"
AUDIO = b"OggS" + bytes(range(256)) * 8


@dataclass
class MediaRepository:
    """The media download endpoint: each file answers ``failures`` statuses first, then itself."""

    files: dict[str, bytes]
    failures: dict[str, list[int]] = field(default_factory=dict)
    asked: dict[str, int] = field(default_factory=dict)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        name = request.match_info["media_id"]
        self.asked[name] = self.asked.get(name, 0) + 1
        pending = self.failures.get(name) or []
        if pending:
            return web.json_response({"errcode": "M_UNKNOWN"}, status=pending.pop(0))
        if name not in self.files:
            return web.json_response({"errcode": "M_NOT_FOUND"}, status=404)
        return web.Response(body=self.files[name], content_type="audio/ogg")

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MediaRepository]:
        async with serving(self.handle) as self.url:
            yield self


def _closed_port_url() -> str:
    """A homeserver address where nothing answers (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


async def _handle_voice(
    db: Database, client: BotClient, media_id: str, *, lang: str = "zh", file: dict[str, Any] | None = None
) -> None:
    """The voice message through the real dispatcher, as the bot handles it on arrival."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp()), default_lang=lang)
    dispatcher = build_dispatcher(settings, db, clock=FrozenClock(T0), extra_context={"client": client})
    url = f"mxc://localhost/{media_id}"
    voice = Message(
        room_id=ROOM, event_id=f"$voice-{media_id}", sender=ALICE, timestamp_ms=1, source={},
        body="语音消息.ogg", msgtype="m.audio", is_voice=True,
        media=Media(url=url, mimetype="audio/ogg", size=len(AUDIO), duration_ms=3000, encrypted_file=file),
    )  # fmt: skip
    await dispatcher.feed(voice)


async def _rows(db: Database) -> list[OutboxMessage]:
    async with db.reading() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _action(db: Database) -> OutboxMessage:
    (action,) = [row for row in await _rows(db) if row.event_type == ACTION]
    return action


async def _note(db: Database) -> tuple[VoiceNote, bytes | None, int]:
    """The one note, its stored bytes, and how many transcription jobs exist."""
    async with db.reading() as session:
        (note,) = list(await session.scalars(select(VoiceNote)))
        audio = await session.scalar(select(VoiceAudio.data).where(VoiceAudio.note_id == note.id))
        jobs = await session.scalar(select(func.count()).select_from(Timer).where(Timer.kind == "voice.transcribe"))
        return note, audio, int(jobs or 0)


def _key(row: OutboxMessage) -> str | None:
    return (row.content.get("m.relates_to") or {}).get("key")


async def test_the_handler_commits_without_the_homeserver_and_the_audio_is_fetched_later(db: Database) -> None:
    async with bot_client(_closed_port_url()) as offline:
        await _handle_voice(db, offline, "flood")
        # Recorded, nothing refused: the fetch waits at the head of the room's lane, the ⏳ behind it.
        note, audio, jobs = await _note(db)
        assert (note.status, audio, jobs) == ("queued", None, 0)
        action = await _action(db)
        rows = await _rows(db)
        assert [r.event_type for r in rows] == [ACTION, "m.reaction"]
        wait = rows[1]
        assert _key(wait) == "⏳" and wait.room_ref == action.id and wait.room_id == ROOM
        assert not [r for r in rows if "无法获取" in str(r.content.get("body", ""))]
        # The relay's try while nothing answers: raised (it is tried again later), nothing kept.
        with pytest.raises(OSError):
            await outbox_actions.run(db, offline, action)
        assert (await _note(db))[1:] == (None, 0)

    async with MediaRepository({"flood": AUDIO}).running() as media, bot_client(media.url) as online:
        assert (await outbox_actions.run(db, online, action)).done
    note, audio, jobs = await _note(db)
    assert (note.status, audio, jobs, note.size) == ("queued", AUDIO, 1, len(AUDIO))
    assert (await _action(db)).sent_at is not None  # the ⏳ may go now


async def test_a_transient_failure_is_tried_again_and_the_audio_is_stored_once(db: Database) -> None:
    repository = MediaRepository({"flood": AUDIO}, failures={"flood": [502, 503]})
    async with repository.running() as media, bot_client(media.url) as client:
        await _handle_voice(db, client, "flood")
        action = await _action(db)
        for _ in range(2):
            with pytest.raises(MediaDownloadError):
                await outbox_actions.run(db, client, action)
            assert (await _note(db))[1:] == (None, 0)
        assert (await outbox_actions.run(db, client, action)).done
        # A second pass over the same row (a relay that had not yet seen it end) changes nothing.
        await outbox_actions.run(db, client, action)
    assert repository.asked["flood"] == 4
    note, audio, jobs = await _note(db)
    assert (note.status, audio, jobs) == ("queued", AUDIO, 1)
    async with db.reading() as session:
        queued = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "voice.queue")
        )
    assert queued == 1
    assert not [r for r in await _rows(db) if _key(r) == "⚠️"]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_file_that_is_not_there_is_refused_in_the_thread_and_the_wait_is_withdrawn(
    db: Database, lang: str
) -> None:
    async with MediaRepository({}).running() as media, bot_client(media.url) as client:
        await _handle_voice(db, client, "gone", lang=lang)
        assert not (await outbox_actions.run(db, client, await _action(db))).done
    note, audio, jobs = await _note(db)
    assert (note.status, note.error_key, audio, jobs) == ("failed", "voice.refuse.download", None, 0)
    rows = await _rows(db)
    wait = next(r for r in rows if _key(r) == "⏳")
    assert wait.failed and wait.sent_at is None  # withdrawn: never shown
    pending = [r for r in rows if not r.failed and r.event_type != ACTION]
    assert [_key(r) for r in pending] == ["⚠️", None]
    reply = pending[1].content
    assert reply["body"] == text("voice.refuse.download", lang)
    assert reply["m.relates_to"]["rel_type"] == "m.thread"
    assert reply["m.relates_to"]["event_id"] == "$voice-gone"
    async with db.reading() as session:
        failed = await session.scalar(select(AuditEntry).where(AuditEntry.action == "voice.fail"))
    assert failed is not None and failed.data["error"] == "voice.refuse.download"


async def test_an_encrypted_attachment_is_decrypted_by_the_relay_and_a_broken_one_refused(db: Database) -> None:
    ciphertext, keys = encrypt_attachment(AUDIO)
    broken = {**keys, "hashes": {"sha256": "not-the-hash"}}
    files = {"sealed": ciphertext, "broken": ciphertext}
    async with MediaRepository(files).running() as media, bot_client(media.url) as client:
        await _handle_voice(db, client, "sealed", file={"url": "mxc://localhost/sealed", **keys})
        assert (await outbox_actions.run(db, client, await _action(db))).done
        note, audio, _ = await _note(db)
        assert audio == AUDIO
        async with db.transaction() as session:  # a second message, its attachment tampered with
            await session.delete(await session.get(VoiceNote, note.id))
        await _handle_voice(db, client, "broken", file={"url": "mxc://localhost/broken", **broken})
        action = next(r for r in await _rows(db) if r.event_type == ACTION and r.sent_at is None)
        assert not (await outbox_actions.run(db, client, action)).done
    note, audio, _ = await _note(db)
    assert (note.status, note.error_key, audio) == ("failed", "voice.refuse.decrypt", None)
