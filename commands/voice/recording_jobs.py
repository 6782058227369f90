"""The worker side of whole recordings: the "voice.recording" timer.

One run decodes the file, plans its chunks (once: the plan is stored), then transcribes the
chunks still missing one by one, each stored with the progress edit in its own short
transaction. A worker killed mid-recording loses only the chunk in flight: the timer's claim
lapses, another run decodes again and goes on from the first chunk without text.
At the end the paragraphs, each led by its timestamp, go to the minutes of the meeting whose
thread the file is in (the meetings feature's voice filer), or are posted in the thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import VoiceFiler
from commands.voice import jobs, learnt, recording_post, recordings, terms
from commands.voice.recording_models import VoiceRecording, VoiceRecordingChunk
from commands.voice.texts import text
from records import outbox
from records.clock import Clock
from records.db import Database
from records.errors import DomainError
from records.models import Timer
from records.timers import Fired, TimerRegistry
from timeparse import format_duration
from voice.decode import AudioError
from voice.pipeline import get_transcriber
from voice.recording import Chunk, Samples, decode_to, paragraphs, plan_chunks, seconds_of, transcribe_chunk

log = logging.getLogger(__name__)

#: One chat message holds at most this many characters of transcript; a longer one is a file.
MESSAGE_CHARS = 3000


@dataclass(frozen=True)
class _Paragraph:
    """What a voice filer reads (commands.plugin.TranscribedNote): one timestamped paragraph."""

    room_id: str
    event_id: str
    thread_root: str | None
    sender: str
    text: str | None


async def fire_recording(db: Database, timer: Timer, clock: Clock, filers: Sequence[VoiceFiler] = ()) -> Fired | None:
    recording_id = int(timer.payload["recording"])
    async with db.reading() as session:
        recording = await session.get(VoiceRecording, recording_id)
        if recording is None or recording.status != "queued":
            return None
        data = await recordings.load_audio(session, recording_id)
        names = await jobs.names_for(session, timer.payload)
        added, removed = await terms.office_edits(session)
        names = [*names, *(t for t in added if t not in names)]
        confirmations = int(timer.payload.get("memory_confirmations") or jobs.DEFAULT_CONFIRMATIONS)
        memory = await learnt.memory_in_force(session, confirmations)
    if data is None:
        await _fail(db, recording_id, clock, "voice.corrupt", "file bytes missing")
        return None
    options = jobs.options_from_payload(timer.payload)
    with tempfile.TemporaryDirectory(prefix="zhiban-recording-") as folder:
        try:
            audio = await asyncio.to_thread(
                decode_to, Path(folder), data, max_bytes=options.max_bytes, max_seconds=options.max_seconds
            )
        except AudioError as exc:
            await _fail(db, recording_id, clock, exc.key, str(exc), reason=exc.user_message(recording.lang))
            return None
        del data  # the decoded samples are on disk; the file's bytes are not needed again
        pending = await _plan(db, recording_id, audio)
        engine = jobs._override or get_transcriber(options)
        for row_id, chunk in pending:
            try:
                said = await asyncio.to_thread(
                    transcribe_chunk,
                    engine,
                    audio,
                    chunk,
                    names=names,
                    extra_terms=options.extra_terms,
                    memory=memory,
                    without=removed,
                )
            except Exception as exc:
                if timer.attempts + 1 < jobs.MAX_ATTEMPTS:
                    raise  # run_timer retries with back-off; the chunks stored stay stored
                log.exception("recording %s: engine failed for good", recording_id)
                await _fail(db, recording_id, clock, "voice.engine_failed", repr(exc))
                return None
            if not await _store_chunk(db, recording_id, row_id, said, clock):
                return None  # answered meanwhile by another run
    await _finish(db, recording_id, clock, filers)
    return None


async def _plan(db: Database, recording_id: int, audio: Samples) -> list[tuple[int, Chunk]]:
    """The chunks still to transcribe (planning them the first run only), progress shown."""
    async with db.reading() as session:
        recording = await session.get(VoiceRecording, recording_id)
        planned = recording is not None and recording.chunks is not None
    plan = [] if planned else await asyncio.to_thread(plan_chunks, audio)
    async with db.transaction() as session:
        recording = await session.get(VoiceRecording, recording_id, with_for_update=True)
        if recording is None or recording.status != "queued":
            return []
        await recordings.save_plan(session, recording, plan, seconds_of(audio))
        rows = await recordings.chunk_rows(session, recording_id)
        done = sum(1 for r in rows if r.text is not None)
        await _show_progress(session, recording, done, len(rows))
    outbox.wake_relay()
    return [(r.id, Chunk(r.start, r.end)) for r in rows if r.text is None]


async def _store_chunk(
    db: Database, recording_id: int, row_id: int, said: list[tuple[float, float, str]], clock: Clock
) -> bool:
    async with db.transaction() as session:
        recording = await session.get(VoiceRecording, recording_id, with_for_update=True)
        row = await session.get(VoiceRecordingChunk, row_id)
        if recording is None or recording.status != "queued" or row is None:
            return False
        if row.text is None:  # a second run that overlapped this one stored it first: keep that
            row.text = json.dumps(said, ensure_ascii=False)
            row.done_at = clock.now()
            await session.flush()
        await _show_progress(session, recording, *await recordings.chunk_progress(session, recording_id))
    outbox.wake_relay()
    return True


async def _show_progress(session: AsyncSession, recording: VoiceRecording, done: int, total: int) -> None:
    percent = done * 100 // total if total else 0
    body = text("recording.progress", recording.lang, code=recording.code, done=done, total=total, percent=percent)
    await _say(session, recording, body)


async def _say(session: AsyncSession, recording: VoiceRecording, body: str) -> None:
    """Edit the one progress message in place, posting it in the thread the first time."""
    ref = recordings.progress_ref(recording.id)
    if await outbox.latest_with_ref(session, ref) is not None:
        await outbox.enqueue_edit(session, ref, outbox.text_content(body))
        return
    await _post(session, recording, body, ref=ref)


async def _post(session: AsyncSession, recording: VoiceRecording, body: str, *, ref: str | None = None) -> None:
    content = outbox.text_content(body)
    content["m.relates_to"] = _relation(recording)
    content["m.mentions"] = {}
    await outbox.enqueue(session, content, room_id=recording.room_id, ref=ref)


def _relation(recording: VoiceRecording) -> dict[str, object]:
    """In the file's thread (starting one on it when it was sent in the main timeline)."""
    return {
        "rel_type": "m.thread",
        "event_id": recording.thread_root or recording.event_id,
        "is_falling_back": recording.thread_root is None,
        "m.in_reply_to": {"event_id": recording.event_id},
    }


async def _fail(db: Database, recording_id: int, clock: Clock, key: str, detail: str, *, reason: str = "") -> None:
    async with db.transaction() as session:
        recording = await session.get(VoiceRecording, recording_id, with_for_update=True)
        if recording is None or recording.status != "queued":
            return
        await recordings.finish(session, recording, status="failed", clock=clock, error=(key, detail))
        why = reason or text("voice.engine_failed", recording.lang)
        await _say(session, recording, text("recording.failed", recording.lang, code=recording.code, reason=why))
    outbox.wake_relay()


async def _finish(db: Database, recording_id: int, clock: Clock, filers: Sequence[VoiceFiler]) -> None:
    async with db.transaction() as session:
        recording = await session.get(VoiceRecording, recording_id, with_for_update=True)
        if recording is None or recording.status != "queued":
            return
        rows = await recordings.chunk_rows(session, recording_id)
        lang = recording.lang
        lines = paragraphs(recordings.segments_of(rows), "zh" if lang == "zh" else "en")
        duration = format_duration(recording.duration or 0.0, lang)
        if not lines:
            await recordings.finish(session, recording, status="done", clock=clock)
            await _say(session, recording, text("recording.no_speech", lang, code=recording.code))
        else:
            filed = await _file(session, recording, lines, clock, filers)
            await recordings.finish(session, recording, status="done", clock=clock, filed_to=filed)
            if filed is not None:
                _, _, meeting = filed.partition(":")
                body = text(
                    "recording.filed", lang, code=recording.code, duration=duration, count=len(lines), meeting=meeting
                )
                await _say(session, recording, body)
            else:
                await _post_transcript(session, recording, lines, duration)
    outbox.wake_relay()


async def _file(
    session: AsyncSession, recording: VoiceRecording, lines: list[str], clock: Clock, filers: Sequence[VoiceFiler]
) -> str | None:
    """File every paragraph with the first filer (by rank) that takes the thread's record; a
    filer that declines leaves nothing behind (a savepoint) and the thread gets the text."""
    for filer in sorted(filers, key=lambda f: f.rank):
        if filer.may_file is None:
            continue  # a filer for voice messages only (a task's progress, a timeline)
        try:
            async with session.begin_nested():
                label: str | None = None
                for line in lines:
                    note = _Paragraph(
                        recording.room_id, recording.event_id, recording.thread_root, recording.requester, line
                    )
                    label = await filer.file(session, note, clock)
                    if label is None:
                        break
        except DomainError as exc:
            log.info("recording %s: filer declined (%s)", recording.code, exc.key)
            continue
        if label:
            return label
    return None


async def _post_transcript(session: AsyncSession, recording: VoiceRecording, lines: list[str], duration: str) -> None:
    """The transcript in the thread: in the progress message when it fits, else as a file."""
    lang, code = recording.lang, recording.code
    whole = "\n\n".join(lines)
    if len(whole) <= MESSAGE_CHARS:
        await _say(session, recording, text("recording.transcript", lang, code=code, duration=duration, text=whole))
        return
    filename = f"{code}.md"
    await _say(session, recording, text("recording.transcript_file", lang, code=code, duration=duration, file=filename))
    heading = text("recording.file_heading", lang, code=code, duration=duration)
    await recording_post.queue_file(
        session,
        room_id=recording.room_id,
        relation=_relation(recording),
        filename=filename,
        text=f"# {heading}\n\n{whole}\n",
        ref=f"voice:{code}:file",
    )


def register(registry: TimerRegistry, filers: Sequence[VoiceFiler] = ()) -> None:
    async def fire(db: Database, timer: Timer, clock: Clock) -> Fired | None:
        return await fire_recording(db, timer, clock, filers)

    registry.register_io(recordings.TIMER_KIND)(fire)
