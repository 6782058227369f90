"""Fetching a recording's file: the "voice.fetch_recording" outbox action, done by the bot's relay.

A sibling of "voice.fetch" (commands/voice/fetch.py), with its download and decryption. For
`!转写` the handler knows only the event replied to: the relay reads that event here (what it
is, who sent it, its size and duration) before downloading. Then, in the transaction that marks
the action done, the bytes are stored and the worker's timer scheduled; a refusal ends the
recording as failed with the reason in the thread, and nothing is stored.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.client import BotClient
from commands.voice import recordings
from commands.voice.fetch import Refused, fetch_audio
from commands.voice.recording_jobs import _post
from commands.voice.recording_models import VoiceRecording
from commands.voice.texts import text
from records.clock import SystemClock
from records.models import OutboxMessage
from records.outbox_actions import Outcome, enqueue_action, register

log = logging.getLogger(__name__)

KIND = "voice.fetch_recording"


def fetch_ref(recording_id: int) -> str:
    return f"voice:R{recording_id}:fetch"


async def queue_fetch(
    session: AsyncSession,
    recording: VoiceRecording,
    *,
    max_bytes: int,
    max_seconds: float,
    senders_only: bool,
    job: dict[str, object],
) -> OutboxMessage:
    """Queue the fetch (the handler's part). ``senders_only``: outside a meeting, only the
    file's sender may ask, which the relay checks once it has read the event."""
    payload = {
        "recording": recording.id,
        "room": recording.room_id,
        "event": recording.event_id,
        "requester": recording.requester,
        "url": recording.audio_url,
        "file": recording.file_info,
        "max_bytes": max_bytes,
        "max_seconds": max_seconds,
        "senders_only": senders_only,
        "job": job,
    }
    return await enqueue_action(session, KIND, payload, room_id=recording.room_id, ref=fetch_ref(recording.id))


def _media_of(event: dict[str, object]) -> tuple[str | None, dict[str, object] | None, int | None, float | None]:
    """(url, encrypted file info, declared size, declared seconds) of a recording event; the
    url is None when the event carries no audio or video file."""
    raw_content = event.get("content")
    content: dict[str, object] = raw_content if isinstance(raw_content, dict) else {}
    raw_info = content.get("info")
    info: dict[str, object] = raw_info if isinstance(raw_info, dict) else {}
    msgtype = str(content.get("msgtype") or "")
    raw_mimetype = info.get("mimetype")
    mimetype = raw_mimetype if isinstance(raw_mimetype, str) else None
    voice_note = "org.matrix.msc3245.voice" in content
    if not recordings.is_recording_media(msgtype, mimetype, voice_note=voice_note):
        return None, None, None, None
    raw_file, raw_url = content.get("file"), content.get("url")
    file: dict[str, object] | None = raw_file if isinstance(raw_file, dict) else None
    url = raw_url if isinstance(raw_url, str) else None
    if url is None and file is not None:
        inner = file.get("url")
        url = inner if isinstance(inner, str) else None
    raw_size, raw_duration = info.get("size"), info.get("duration")
    size = raw_size if isinstance(raw_size, int) else None
    duration = raw_duration if isinstance(raw_duration, int) else None
    return url, file, size, duration / 1000 if duration is not None else None


def check_caps(size: int | None, seconds: float | None, max_bytes: int, max_seconds: float) -> None:
    """Refuse a file over the recording limits (from what its event declares)."""
    if size is not None and size > max_bytes:
        raise Refused(
            "recording.refuse.too_large",
            f"{size} bytes",
            size_mb=f"{size / 1_048_576:.1f}",
            limit_mb=f"{max_bytes / 1_048_576:g}",
        )
    if seconds is not None and seconds > max_seconds:
        raise Refused(
            "recording.refuse.too_long", f"{seconds:.0f} s", seconds=f"{seconds:.0f}", limit=f"{max_seconds:g}"
        )


async def perform(client: BotClient, payload: dict[str, object]) -> Outcome:
    recording_id = int(str(payload["recording"]))
    max_bytes, max_seconds = int(str(payload["max_bytes"])), float(str(payload["max_seconds"]))
    given_url, given_file, job = payload.get("url"), payload.get("file"), payload.get("job")
    url = given_url if isinstance(given_url, str) else None
    file = given_file if isinstance(given_file, dict) else None
    try:
        if not url:
            event = await client.get_event(str(payload["room"]), str(payload["event"]))
            url, file, size, seconds = _media_of(event)
            if url is None:
                raise Refused("recording.refuse.not_media", "no audio or video file")
            if payload.get("senders_only") and event.get("sender") != payload.get("requester"):
                raise Refused("recording.refuse.not_sender", f"sent by {event.get('sender')}")
            check_caps(size, seconds, max_bytes, max_seconds)
        data = await fetch_audio(client, str(url), file, max_bytes)
        if len(data) > max_bytes:
            check_caps(len(data), None, max_bytes, max_seconds)
    except Refused as exc:
        log.warning("recording R%s refused: %s", recording_id, exc)
        key = "recording.refuse.too_large" if exc.key == "voice.refuse.too_large" else exc.key
        return Outcome(_refusal(recording_id, key, exc.detail, exc.params), refused=key)
    return Outcome(_stored(recording_id, data, job if isinstance(job, dict) else {}))


def _stored(recording_id: int, data: bytes, job: dict[str, object]) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        recording = await session.get(VoiceRecording, recording_id)
        if recording is None or recording.status != "queued":
            return
        if await recordings.load_audio(session, recording_id) is not None:
            return
        await recordings.store_audio(session, recording, data, clock=SystemClock(), job=job)

    return record


def _refusal(
    recording_id: int, key: str, detail: str, params: dict[str, str]
) -> Callable[[AsyncSession], Awaitable[None]]:
    async def record(session: AsyncSession) -> None:
        recording = await session.get(VoiceRecording, recording_id)
        if recording is None or recording.status != "queued":
            return
        await recordings.finish(session, recording, status="failed", clock=SystemClock(), error=(key, detail))
        await _post(session, recording, text(key, recording.lang, **params))

    return record


register(KIND, perform)
