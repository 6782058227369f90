"""The real Whisper model through the "voice.transcribe" timer (SQLite only: one model run)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

import commands.voice.jobs as jobs
from commands.voice import service
from commands.voice.models import VoiceNote
from records.clock import FrozenClock
from records.db import Database
from records.migrate import upgrade
from records.models import OutboxMessage
from records.timers import TimerRegistry, claim_due, run_timer
from tests.support.voice_samples import SHARED_VOICE

FLOOD = SHARED_VOICE / "zh_tts_flood.ogg"
_FLOOD_BYTES = FLOOD.read_bytes() if FLOOD.is_file() else b""


@pytest.fixture(scope="session")
def engine_available() -> None:
    """The weight packages are installed with the voice extra (``make test`` installs it), so the
    model is assembled here, once per session, rather than the test skipping until someone
    assembles it by hand. A missing package fails with the install hint."""
    from voice.model import ensure_model

    ensure_model(None)
    if not FLOOD.is_file():
        pytest.skip(
            f"the shared voice samples are not at {FLOOD.parent} (they sit beside the repository in ../shared/voice)"
        )


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zhiban.db'}"
    upgrade(url)  # runs its own event loop: a sync fixture
    return url


async def test_real_model_transcribes_flood_notice_through_the_timer(engine_available: None, sqlite_url: str) -> None:
    db = Database(sqlite_url)
    clock = FrozenClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))
    registry = TimerRegistry()
    jobs.register(registry)
    jobs.use_transcriber(None)  # the configured engine: faster-whisper base, loaded by get_transcriber
    try:
        async with db.transaction() as s:
            note = await service.queue_note(
                s, room_id="!r:localhost", event_id="$flood", thread_root=None, sender="@alice:localhost",
                audio_url="mxc://localhost/flood", audio=_FLOOD_BYTES, clock=clock,
                mimetype="audio/ogg", claimed_ms=4000, job=jobs.job_options(_Settings()),
            )  # fmt: skip
        results = [await run_timer(db, tid, registry, clock) for tid in await claim_due(db, clock)]
        assert results == ["done"]
        async with db.reading() as s:
            stored = await s.get(VoiceNote, note.id)
            assert stored is not None
            rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        await db.dispose()
    assert stored.status == "done" and stored.language == "zh" and stored.engine == "faster-whisper/base"
    assert stored.text and "防汛" in stored.text and "到岗" in stored.text  # glossary fix: not 到港
    assert stored.duration and 2 < stored.duration < 10
    reply = next(r for r in rows if r.event_type == "m.room.message")
    assert "防汛" in reply.content["body"] and reply.content["m.relates_to"]["event_id"] == "$flood"
    assert [r.content["m.relates_to"]["key"] for r in rows if r.event_type == "m.reaction"] == ["✅"]


class _Settings:
    """The defaults of settings.voice, as the bot would pass them."""

    model_dir = ""
    max_bytes = 20 * 1024 * 1024
    max_seconds = 600
    glossary: tuple[str, ...] = ()
    memory_confirmations = 2
