"""Whole recordings: throughput on a multi-minute recording, and resuming after a SIGKILL.

A recording is made by joining the Mandarin clips of ``bench/voice_dev`` with pauses between
them (as a meeting's turns), a few minutes long. Its request and file are stored in a SQLite
database as the relay would store them, and a worker process (this module with ``--worker``:
the timer pump and the "voice.recording" job with the real model) transcribes it.

Printed:
- throughput: audio minutes per wall minute of one uninterrupted run (decode, plan, chunks);
- resume: a second run whose worker is SIGKILLed once a few chunks are stored; a new worker
  is started at once, and we time from its start to its first chunk stored (the claim's lapse,
  the model's load, decoding again, one chunk), and count the chunks it did again that were
  stored before the kill (target 0: only the chunk in flight is lost).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import psutil
from sqlalchemy import func, select

from records.clock import Clock

DEV = Path(__file__).resolve().parent / "voice_dev"
PAUSE_SECONDS = 1.5
ROOM, FILE_EVENT, SENDER = "!bench:localhost", "$recording", "@alice:localhost"


def dev_clips(count: int) -> list[tuple[Path, str]]:
    """The first ``count`` Mandarin clips of the dev set with their reference text (repeating
    the set if it has fewer)."""
    rows = []
    for line in (DEV / "refs.tsv").read_text(encoding="utf-8").splitlines():
        name, lang, said = line.split("\t")
        if lang == "zh":
            rows.append((DEV / f"{name}.ogg", said))
    return [rows[i % len(rows)] for i in range(count)]


def make_recording(count: int, pause: float = PAUSE_SECONDS) -> tuple[bytes, float, list[str]]:
    """(a WAV file of ``count`` dev clips joined with ``pause`` seconds of silence, its
    length in seconds, the clips' reference sentences)."""
    from voice.decode import SAMPLE_RATE, decode_audio

    gap = np.zeros(int(pause * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = [gap]
    said = []
    for path, text in dev_clips(count):
        parts += [decode_audio(path.read_bytes()), gap]
        said.append(text)
    samples = np.concatenate(parts)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return out.getvalue(), samples.shape[0] / SAMPLE_RATE, said


async def queue_recording(url: str, data: bytes, clock: Clock | None = None) -> int:
    """Store a recording's request and file as the relay does once it fetched it."""
    from commands.voice import recordings
    from commands.voice.jobs import job_options
    from records.clock import FrozenClock
    from records.config import VoiceSettings
    from records.db import Database

    voice = VoiceSettings()
    job = job_options(voice, max_bytes=voice.recording_max_bytes, max_seconds=voice.recording_max_seconds)
    clock = clock or FrozenClock(datetime.now(UTC))
    db = Database(url)
    try:
        async with db.transaction() as session:
            recording, _ = await recordings.receive(
                session, room_id=ROOM, event_id=FILE_EVENT, thread_root=None, requester=SENDER, lang="zh", clock=clock
            )
            await recordings.store_audio(session, recording, data, clock=clock, job=job)
            return recording.id
    finally:
        await db.dispose()


async def chunk_state(url: str, recording_id: int) -> tuple[int | None, set[int], str]:
    """(chunks planned, the seqs stored, the recording's status)."""
    from commands.voice.recording_models import VoiceRecording, VoiceRecordingChunk
    from records.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            recording = await session.get(VoiceRecording, recording_id)
            assert recording is not None
            done = await session.scalars(
                select(VoiceRecordingChunk.seq).where(
                    VoiceRecordingChunk.recording_id == recording_id, VoiceRecordingChunk.text.is_not(None)
                )
            )
            return recording.chunks, set(done), recording.status
    finally:
        await db.dispose()


async def _count_chunks(url: str) -> int:
    from commands.voice.recording_models import VoiceRecordingChunk
    from records.db import Database

    db = Database(url)
    try:
        async with db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(VoiceRecordingChunk)) or 0)
    finally:
        await db.dispose()


# -- the worker process -----------------------------------------------------------------------
async def _worker(url: str, log_path: Path) -> None:
    """The timer pump and the recording job, logging each chunk it transcribes (JSON lines)."""
    import commands.voice.recording_jobs as recording_jobs
    from records.clock import SystemClock
    from records.db import Database
    from records.timers import TimerRegistry, claim_round, run_batch

    transcribe = recording_jobs.transcribe_chunk

    def logged(engine, audio, chunk, **kw):  # type: ignore[no-untyped-def]
        said = transcribe(engine, audio, chunk, **kw)
        with log_path.open("a") as fh:
            fh.write(json.dumps({"start": chunk.start, "at": time.time()}) + "\n")
        return said

    recording_jobs.transcribe_chunk = logged  # type: ignore[assignment]
    registry = TimerRegistry()
    recording_jobs.register(registry)
    db, clock = Database(url), SystemClock()
    while True:
        claim = await claim_round(db, clock)
        if claim.ids:  # as the worker's job runs a batch, renewing its claims while it runs
            await run_batch(db, claim.ids, registry, clock, token=claim.token)
        await asyncio.sleep(0.2)


def spawn_worker(url: str, log_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bench.voice_recording", "--worker", url, str(log_path)])


#: The highest RSS seen of a worker process while waiting (bytes).
peak_rss = [0]


async def _until(
    url: str, recording_id: int, done: int | None = None, *, within: float = 1800, worker: int | None = None
) -> set[int]:
    """Wait until ``done`` chunks are stored (None: until the recording is finished), noting
    the ``worker`` process's RSS meanwhile."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if worker is not None:
            try:
                peak_rss[0] = max(peak_rss[0], psutil.Process(worker).memory_info().rss)
            except psutil.NoSuchProcess:
                pass
        _total, stored, status = await chunk_state(url, recording_id)
        if (done is None and status != "queued") or (done is not None and len(stored) >= done):
            return stored
        await asyncio.sleep(0.1)
    raise TimeoutError("the recording did not progress")


async def run(clips: int) -> None:
    from records.migrate import upgrade

    data, seconds, _ = make_recording(clips)
    print(f"recording: {clips} dev clips with {PAUSE_SECONDS:g} s pauses = {seconds / 60:.1f} audio minutes")
    with tempfile.TemporaryDirectory() as tmp:
        # One uninterrupted run: throughput.
        url = f"sqlite:///{Path(tmp) / 'whole.db'}"
        await asyncio.to_thread(upgrade, url)
        recording_id = await queue_recording(url, data)
        began = time.monotonic()
        worker = spawn_worker(url, Path(tmp) / "whole.log")
        try:
            await _until(url, recording_id, worker=worker.pid)
        finally:
            worker.kill()
            worker.wait()
        wall = time.monotonic() - began
        chunks = await _count_chunks(url)
        print(
            f"throughput: {seconds / 60:.2f} audio min in {wall:.1f} s wall (worker start and model load included)"
            f" = {seconds / wall:.2f} audio minutes per wall minute, {chunks} chunks;"
            f" worker peak RSS {peak_rss[0] / 1_048_576:.0f} MB (target < 700 MB)"
        )

        # A run killed mid-way, then resumed by a new worker.
        url = f"sqlite:///{Path(tmp) / 'resume.db'}"
        await asyncio.to_thread(upgrade, url)
        recording_id = await queue_recording(url, data)
        first_log, second_log = Path(tmp) / "first.log", Path(tmp) / "second.log"
        worker = spawn_worker(url, first_log)
        try:
            total = None
            while total is None:
                total, _, _ = await chunk_state(url, recording_id)
                await asyncio.sleep(0.1)
            before = await _until(url, recording_id, max(1, total // 2))
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        _, before, _ = await chunk_state(url, recording_id)
        restarted = time.monotonic()
        worker = spawn_worker(url, second_log)
        try:
            await _until(url, recording_id, len(before) + 1)
            first_chunk = time.monotonic() - restarted
            await _until(url, recording_id)
        finally:
            worker.kill()
            worker.wait()
        _, after, status = await chunk_state(url, recording_id)
        redone = 0
        starts = [json.loads(line)["start"] for line in second_log.read_text().splitlines()]
        from commands.voice.recording_models import VoiceRecordingChunk
        from records.db import Database

        db = Database(url)
        async with db.reading() as session:
            rows = list(
                await session.scalars(
                    select(VoiceRecordingChunk).where(VoiceRecordingChunk.recording_id == recording_id)
                )
            )
        await db.dispose()
        done_before = {r.start for r in rows if r.seq in before}
        redone = sum(1 for s in starts if s in done_before)
        print(
            f"resume: killed with {len(before)}/{total} chunks stored; the new worker stored its first chunk"
            f" {first_chunk:.1f} s after it started (claim lapse up to 8 s, model load, decoding, one chunk);"
            f" chunks redone: {redone} (target 0); finished {status} with {len(after)}/{total}"
        )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        asyncio.run(_worker(sys.argv[2], Path(sys.argv[3])))
        return
    clips = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    asyncio.run(run(clips))


if __name__ == "__main__":
    main()
