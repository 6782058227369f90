"""Whole recordings, the database side: receive a request, keep the file, plan and store chunks.

The bot records the request (``receive``) and queues the fetch of the file
(commands/voice/recording_fetch.py); the relay stores the bytes and schedules the worker's
"voice.recording" timer (``store_audio``); the worker (commands/voice/recording_jobs.py) plans
the chunks once and stores each chunk's text as it completes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import VoiceFiler
from commands.voice.recording_models import VoiceRecording, VoiceRecordingAudio, VoiceRecordingChunk
from records import audit, timers
from records.clock import Clock
from voice.recording import Chunk

TIMER_KIND = "voice.recording"
#: Mimetype families a recording may have (a video's audio track is transcribed).
MEDIA_TYPES = ("audio/", "video/")
#: Message types that may carry a recording.
MSGTYPES = ("m.audio", "m.video", "m.file")


def timer_key(recording_id: int) -> str:
    return f"voice:recording:R{recording_id}"


def progress_ref(recording_id: int) -> str:
    """The ref of the one thread message that shows progress, then the outcome."""
    return f"voice:R{recording_id}:progress"


def is_recording_media(msgtype: str, mimetype: str | None, *, voice_note: bool = False) -> bool:
    """An audio or video file that is not a recorded voice note (those are transcribed anyway)."""
    if voice_note or msgtype not in MSGTYPES:
        return False
    if msgtype in ("m.audio", "m.video"):
        return True
    return bool(mimetype) and str(mimetype).startswith(MEDIA_TYPES)


async def may_file(
    session: AsyncSession, filers: Sequence[VoiceFiler], thread_root: str | None, user: str
) -> tuple[str, bool] | None:
    """(the record's code, whether ``user`` may add to it) for the first filer the thread is
    the business of, or None when none is (the thread is no meeting's)."""
    for filer in sorted(filers, key=lambda f: f.rank):
        if filer.may_file is None:
            continue
        found = await filer.may_file(session, thread_root, user)
        if found is not None:
            return found
    return None


async def by_event(session: AsyncSession, event_id: str) -> VoiceRecording | None:
    return await session.scalar(select(VoiceRecording).where(VoiceRecording.event_id == event_id))


async def receive(
    session: AsyncSession,
    *,
    room_id: str,
    event_id: str,
    thread_root: str | None,
    requester: str,
    lang: str,
    clock: Clock,
    audio_url: str | None = None,
    file_info: dict[str, object] | None = None,
) -> tuple[VoiceRecording, bool]:
    """The recording of the file ``event_id``: new, or the one already asked for (and not new).
    One that failed (refused, unreadable) is asked for again from scratch: a refusal to one
    person must not keep the file's sender from asking."""
    recording = await by_event(session, event_id)
    if recording is not None and recording.status != "failed":
        return recording, False
    if recording is None:
        recording = VoiceRecording(room_id=room_id, event_id=event_id)
        session.add(recording)
    else:
        await session.execute(delete(VoiceRecordingChunk).where(VoiceRecordingChunk.recording_id == recording.id))
        recording.duration = recording.chunks = recording.finished_at = None
        recording.error_key = recording.error_detail = recording.filed_to = None
    recording.thread_root, recording.requester, recording.lang = thread_root, requester, lang
    recording.audio_url, recording.file_info = audio_url, file_info
    recording.status, recording.created_at = "queued", clock.now()
    await session.flush()
    await audit.record(
        session,
        actor=requester,
        action="voice.recording.request",
        subject=recording.code,
        data={"room": room_id, "event": event_id},
        clock=clock,
    )
    return recording, True


async def store_audio(
    session: AsyncSession, recording: VoiceRecording, data: bytes, *, clock: Clock, job: dict[str, object]
) -> None:
    """Keep the fetched file and schedule the worker's job (the timer row is the job)."""
    session.add(VoiceRecordingAudio(recording_id=recording.id, data=data))
    payload = {"recording": recording.id, **job}
    await timers.schedule(session, TIMER_KIND, recording.created_at, payload, key=timer_key(recording.id), clock=clock)


async def load_audio(session: AsyncSession, recording_id: int) -> bytes | None:
    return await session.scalar(
        select(VoiceRecordingAudio.data).where(VoiceRecordingAudio.recording_id == recording_id)
    )


async def chunk_progress(session: AsyncSession, recording_id: int) -> tuple[int, int]:
    """(chunks stored, chunks planned), counted by the database: progress is shown after every
    chunk, and reading every stored chunk each time would be quadratic in the recording."""
    done, total = (
        await session.execute(
            select(func.count(VoiceRecordingChunk.text), func.count()).where(
                VoiceRecordingChunk.recording_id == recording_id
            )
        )
    ).one()
    return int(done), int(total)


async def chunk_rows(session: AsyncSession, recording_id: int) -> list[VoiceRecordingChunk]:
    rows = await session.scalars(
        select(VoiceRecordingChunk)
        .where(VoiceRecordingChunk.recording_id == recording_id)
        .order_by(VoiceRecordingChunk.seq)
    )
    return list(rows)


async def save_plan(session: AsyncSession, recording: VoiceRecording, plan: Sequence[Chunk], duration: float) -> bool:
    """Store the chunk plan unless a run before this one did (then False: use the stored one)."""
    if recording.chunks is not None:
        return False
    recording.chunks = len(plan)
    recording.duration = duration
    for seq, chunk in enumerate(plan):
        session.add(VoiceRecordingChunk(recording_id=recording.id, seq=seq, start=chunk.start, end=chunk.end))
    await session.flush()
    return True


def segments_of(rows: Sequence[VoiceRecordingChunk]) -> list[tuple[float, float, str]]:
    """Every done chunk's segments, in order, as (start, end, text)."""
    out: list[tuple[float, float, str]] = []
    for row in rows:
        for start, end, said in json.loads(row.text or "[]"):
            out.append((float(start), float(end), str(said)))
    return out


async def finish(
    session: AsyncSession,
    recording: VoiceRecording,
    *,
    status: str,
    clock: Clock,
    filed_to: str | None = None,
    error: tuple[str, str] | None = None,
) -> None:
    """End the recording: its file is dropped (the chunks keep the text), and it is audited."""
    recording.status = status
    recording.finished_at = clock.now()
    recording.filed_to = filed_to
    if error is not None:
        recording.error_key, recording.error_detail = error
    await session.execute(delete(VoiceRecordingAudio).where(VoiceRecordingAudio.recording_id == recording.id))
    await audit.record(
        session,
        actor=recording.requester,
        action=f"voice.recording.{status}",
        subject=recording.code,
        data={"filed_to": filed_to, "error": error[0] if error else None, "chunks": recording.chunks},
        clock=clock,
    )
