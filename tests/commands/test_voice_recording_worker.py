"""Whole recordings through the "voice.recording" timer with the real Whisper model (SQLite).

A recording of dev clips joined with pauses is stored as the relay stores a fetched file; the
job plans its chunks, stores each as it completes with one progress message edited in place,
and posts the timestamped transcript in the thread (no meeting here: the meeting path runs
through Synapse in tests/e2e/test_voice_recording_e2e.py).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import commands.voice.jobs as jobs
import commands.voice.recording_jobs as recording_jobs
from bench.voice_recording import make_recording, queue_recording
from commands.voice import recordings
from commands.voice.recording_models import VoiceRecording, VoiceRecordingAudio, VoiceRecordingChunk
from records.clock import FrozenClock
from records.db import Database
from records.migrate import upgrade
from records.models import AuditEntry, OutboxMessage, Timer
from records.timers import TimerRegistry, claim_due, run_timer
from voice.recording import Chunk

CLIPS = 9  # about a minute of speech with pauses: three chunks


@pytest.fixture(scope="module")
def recording() -> tuple[bytes, float, list[str]]:
    from voice.model import ensure_model

    ensure_model(None)  # the weights are installed with the voice extra: assemble, never skip
    return make_recording(CLIPS)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'zhiban.db'}"
    upgrade(url)
    return url


async def _run_due(db: Database, registry: TimerRegistry, clock: FrozenClock) -> list[str]:
    return [await run_timer(db, tid, registry, clock) for tid in await claim_due(db, clock)]


def _progress(rows: list[OutboxMessage], recording_id: int) -> list[str]:
    """The progress message's bodies in order: the first post, then each edit's new content."""
    ref = recordings.progress_ref(recording_id)
    first = next(row for row in rows if row.ref == ref)
    edits = [row for row in rows if row.relates_to_outbox_id == first.id and row.relation == "m.replace"]
    return [str(first.content["body"])] + [str(row.content["m.new_content"]["body"]) for row in edits]


async def test_a_recording_is_transcribed_chunk_by_chunk_with_progress_and_timestamps(
    recording: tuple[bytes, float, list[str]], sqlite_url: str
) -> None:
    data, seconds, _said = recording
    db = Database(sqlite_url)
    clock = FrozenClock(datetime.now(UTC))
    registry = TimerRegistry()
    recording_jobs.register(registry)
    jobs.use_transcriber(None)
    try:
        recording_id = await queue_recording(sqlite_url, data, clock)
        assert await _run_due(db, registry, clock) == ["done"]
        async with db.reading() as s:
            stored = await s.get(VoiceRecording, recording_id)
            chunks = await recordings.chunk_rows(s, recording_id)
            audio_left = await s.get(VoiceRecordingAudio, recording_id)
            rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
            audits = list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    finally:
        await db.dispose()
    assert stored is not None and stored.status == "done" and audio_left is None
    assert stored.duration and abs(stored.duration - seconds) < 1
    assert len(chunks) >= 3 and all(c.text for c in chunks)
    assert all(c.end - c.start <= 30 for c in chunks)
    progress = _progress(rows, recording_id)
    total = len(chunks)
    # One message: posted at 0/N, edited at every chunk, then edited into the transcript.
    assert progress[0].endswith(f"转写中 0/{total} 段（0%）")
    assert [f"{n}/{total} 段" in body for n, body in enumerate(progress[1 : total + 1], 1)] == [True] * total
    final = progress[-1]
    assert final.startswith(f"✅ R{recording_id} 转写完成")
    stamps = re.findall(r"\[(\d\d):(\d\d):(\d\d)\]", final)
    assert len(stamps) >= 2 and stamps[0][:2] == ("00", "00")
    assert "台风" in final and "值班" in final  # words of the clips (dev02, dev01)
    assert "voice.recording.request" in audits and "voice.recording.done" in audits


async def test_a_run_that_dies_mid_recording_resumes_without_redoing_stored_chunks(
    recording: tuple[bytes, float, list[str]], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run stores one chunk, then its engine fails on the next (as a worker that dies
    there): the retry transcribes only the chunks not stored."""
    data, _, _ = recording
    real = recording_jobs.transcribe_chunk
    calls: Counter[float] = Counter()
    fail_after = [1]

    def counting(engine, audio, chunk: Chunk, **kw):  # type: ignore[no-untyped-def]
        if fail_after[0] == 0:
            fail_after[0] = -1
            raise RuntimeError("the worker died here")
        fail_after[0] -= 1
        calls[chunk.start] += 1
        return real(engine, audio, chunk, **kw)

    monkeypatch.setattr(recording_jobs, "transcribe_chunk", counting)
    db = Database(sqlite_url)
    clock = FrozenClock(datetime.now(UTC))
    registry = TimerRegistry()
    recording_jobs.register(registry)
    jobs.use_transcriber(None)
    try:
        recording_id = await queue_recording(sqlite_url, data, clock)
        assert await _run_due(db, registry, clock) == ["error"]
        async with db.reading() as s:
            halfway = [c.seq for c in await recordings.chunk_rows(s, recording_id) if c.text]
        assert halfway == [0]
        clock.advance(timedelta(minutes=10))
        assert await _run_due(db, registry, clock) == ["done"]
        async with db.reading() as s:
            stored = await s.get(VoiceRecording, recording_id)
            chunks = list(await s.scalars(select(VoiceRecordingChunk).order_by(VoiceRecordingChunk.seq)))
    finally:
        await db.dispose()
    assert stored is not None and stored.status == "done"
    assert all(c.text for c in chunks)
    assert set(calls) == {c.start for c in chunks} and max(calls.values()) == 1  # none done twice


async def test_a_recording_over_the_length_cap_fails_cleanly_with_nothing_half_written(
    recording: tuple[bytes, float, list[str]], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _, _ = recording
    db = Database(sqlite_url)
    clock = FrozenClock(datetime.now(UTC))
    registry = TimerRegistry()
    recording_jobs.register(registry)
    try:
        recording_id = await queue_recording(sqlite_url, data, clock)
        async with db.transaction() as s:
            timer = (await s.scalars(select(Timer))).one()
            timer.payload = {**timer.payload, "options": {**timer.payload["options"], "max_seconds": 20}}
        assert await _run_due(db, registry, clock) == ["done"]
        async with db.reading() as s:
            stored = await s.get(VoiceRecording, recording_id)
            chunks = await recordings.chunk_rows(s, recording_id)
            audio_left = await s.get(VoiceRecordingAudio, recording_id)
            rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        await db.dispose()
    assert stored is not None and stored.status == "failed" and stored.error_key == "voice.too_long"
    assert chunks == [] and audio_left is None
    bodies = [str((r.content.get("m.new_content") or r.content).get("body", "")) for r in rows]
    assert len(bodies) == 1 and bodies[0].startswith(f"⚠️ R{recording_id} 转写失败")


async def test_an_engine_that_keeps_failing_ends_the_recording_with_the_reason(
    recording: tuple[bytes, float, list[str]], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> list[tuple[float, float, str]]:
        raise RuntimeError("engine down")

    monkeypatch.setattr(recording_jobs, "transcribe_chunk", broken)
    db = Database(sqlite_url)
    clock = FrozenClock(datetime.now(UTC))
    registry = TimerRegistry()
    recording_jobs.register(registry)
    try:
        recording_id = await queue_recording(sqlite_url, recording[0], clock)
        outcomes = []
        for _ in range(jobs.MAX_ATTEMPTS):
            outcomes += await _run_due(db, registry, clock)
            clock.advance(timedelta(hours=1))
        async with db.reading() as s:
            stored = await s.get(VoiceRecording, recording_id)
            rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        await db.dispose()
    assert outcomes == ["error"] * (jobs.MAX_ATTEMPTS - 1) + ["done"]
    assert stored is not None and stored.status == "failed" and stored.error_key == "voice.engine_failed"
    assert (
        _progress(rows, recording_id)[-1] == f"⚠️ R{recording_id} 转写失败：转写服务暂时不可用，请稍后重试或改发文字。"
    )


async def test_progress_of_a_long_recording_reads_each_chunk_a_bounded_number_of_times(
    recording: tuple[bytes, float, list[str]], sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A two-hour meeting is some 250 chunks: showing progress after each must not read every
    stored chunk again (quadratic in the recording's length), only count them."""
    from sqlalchemy import event

    data, _, _ = recording
    chunks = 60
    monkeypatch.setattr(
        recording_jobs, "plan_chunks", lambda audio: [Chunk(i * 0.5, i * 0.5 + 0.5) for i in range(chunks)]
    )
    monkeypatch.setattr(
        recording_jobs, "transcribe_chunk", lambda engine, audio, chunk, **kw: [(chunk.start, chunk.end, "收到")]
    )
    loads = Counter[str]()

    def loaded(target: VoiceRecordingChunk, context: object) -> None:
        loads["chunk"] += 1

    event.listen(VoiceRecordingChunk, "load", loaded)
    db = Database(sqlite_url)
    clock = FrozenClock(datetime.now(UTC))
    registry = TimerRegistry()
    recording_jobs.register(registry)
    jobs.use_transcriber(None)
    try:
        recording_id = await queue_recording(sqlite_url, data, clock)
        assert await _run_due(db, registry, clock) == ["done"]
        async with db.reading() as s:
            rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    finally:
        event.remove(VoiceRecordingChunk, "load", loaded)
        await db.dispose()
    progress = _progress(rows, recording_id)
    assert f"{chunks}/{chunks} 段" in progress[chunks]
    assert loads["chunk"] <= 4 * chunks  # plan, one row per stored chunk, the transcript: not 60²/2
