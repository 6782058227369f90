"""The worker side of voice messages: the "voice.transcribe" timer.

The bot stores the note and its audio bytes and schedules this timer (the durable job); a worker
runs it: transcribe in a thread (the model is loaded once per process by
``voice.pipeline.get_transcriber``), store and file the transcript, and answer through the outbox
(a threaded reply, ✅, or ⚠️ with the reason). Workers never log in to Matrix.

Exactly once: the answer (transcript, reply, reactions) is written in one short transaction that
first checks the note is still "queued"; a worker killed mid-job commits nothing, the timer's
claim lapses, another worker runs it again, and only one run's reply is ever sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from commands.timeparse import format_duration
from commands.voice import service
from commands.voice.models import VoiceNote
from commands.voice.texts import TEXTS, text
from records import outbox
from records.clock import Clock
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry
from voice.decode import AudioError
from voice.engine import Transcriber, Transcript
from voice.pipeline import VoiceOptions, transcribe_bytes

log = logging.getLogger(__name__)

#: Engine errors (not the audio's fault) are retried this many times, then the user is told.
MAX_ATTEMPTS = 3

_override: Transcriber | None = None


def use_transcriber(transcriber: Transcriber | None) -> None:
    """Replace the engine in this process (tests, benchmarks); None restores the configured one."""
    global _override
    _override = transcriber


# -- options: settings → timer payload → VoiceOptions ---------------------------------------
def job_options(voice_settings: Any) -> dict[str, Any]:
    """What the worker needs from the bot's ``settings.voice``, as JSON for the timer payload.

    Timer handlers receive no settings, and a worker may run elsewhere; carrying the options in
    the job keeps bot and worker in agreement about the limits the bot already checked.
    """
    return {
        "options": {
            "model_dir": str(getattr(voice_settings, "model_dir", "") or ""),
            "max_bytes": int(voice_settings.max_bytes),
            "max_seconds": float(voice_settings.max_seconds),
            "extra_terms": list(getattr(voice_settings, "glossary", []) or []),
        }
    }


def options_from_payload(payload: Mapping[str, Any]) -> VoiceOptions:
    raw = payload.get("options") or {}
    defaults = VoiceOptions()
    model_dir = raw.get("model_dir") or ""
    return VoiceOptions(
        engine=str(raw.get("engine") or defaults.engine),
        model_dir=Path(model_dir) if model_dir else None,
        max_bytes=int(raw.get("max_bytes") or defaults.max_bytes),
        max_seconds=float(raw.get("max_seconds") or defaults.max_seconds),
        extra_terms=tuple(str(t) for t in raw.get("extra_terms") or ()),
    )


# -- the timer ------------------------------------------------------------------------------
async def fire_transcribe(db: Database, timer: Timer, clock: Clock) -> Fired | None:
    """Read the note, transcribe with no transaction open, then answer in a short one.

    On SQLite an open write transaction would block the bot for the length of the
    transcription; here the only lock is held while the answer is written. The note's status
    is checked again then, so a job that ran twice (its claim lapsed) answers once.
    """
    note_id = int(timer.payload["note"])
    async with db.reading() as session:
        note = await service.get_note(session, note_id)
        if note is None or note.status != "queued":
            return None  # already answered (a re-delivered job) or deleted
        data = await service.load_audio(session, note_id)
        lang = note.lang
    if data is None:
        await _answer(db, note_id, clock, failure=("voice.corrupt", "audio bytes missing", text("voice.corrupt", lang)))
        return None
    options = options_from_payload(timer.payload)
    try:
        transcript = await asyncio.to_thread(transcribe_bytes, data, options=options, transcriber=_override)
    except AudioError as exc:
        await _answer(db, note_id, clock, failure=(exc.key, str(exc), exc.user_message(lang)))
        return None
    except Exception as exc:
        if timer.attempts + 1 < MAX_ATTEMPTS:
            raise  # run_timer retries with back-off
        log.exception("voice %s: engine failed for good", note_id)
        await _answer(db, note_id, clock, failure=("voice.engine_failed", repr(exc), text("voice.engine_failed", lang)))
        return None
    await _answer(db, note_id, clock, transcript=transcript)
    return None


async def _answer(
    db: Database,
    note_id: int,
    clock: Clock,
    *,
    transcript: Transcript | None = None,
    failure: tuple[str, str, str] | None = None,
) -> None:
    async with db.transaction() as session:
        note = await session.get(VoiceNote, note_id, with_for_update=True)
        if note is None or note.status != "queued":
            return  # another run of this job answered first
        if transcript is not None:
            await _finish(session, note, transcript, clock)
        elif failure is not None:
            key, detail, reason = failure
            await _fail(session, note, key, detail, reason, clock)
    outbox.wake_relay()


async def _finish(session: AsyncSession, note: VoiceNote, transcript: Transcript, clock: Clock) -> None:
    body = transcript.text.strip()
    filed = await service.finish_note(
        session,
        note,
        text=body,
        language=transcript.language,
        duration=transcript.duration,
        engine=transcript.engine,
        clock=clock,
    )
    if not body:
        await _say(session, note, text("voice.failed", note.lang, reason=text("voice.no_speech", note.lang)))
        await _react(session, note, "⚠️")
    else:
        await _say(session, note, render_transcript(note, filed))
        await _react(session, note, "✅")
    await _unwait(session, note)


async def _fail(session: AsyncSession, note: VoiceNote, key: str, detail: str, reason: str, clock: Clock) -> None:
    await service.fail_note(session, note, key=key, detail=detail, clock=clock)
    await _say(session, note, text("voice.failed", note.lang, reason=reason))
    await _react(session, note, "⚠️")
    await _unwait(session, note)


def render_transcript(note: VoiceNote, filed: str | None) -> str:
    lang = note.lang
    language_key = f"voice.lang.{note.language}"
    language = text(language_key, lang) if language_key in TEXTS else (note.language or "?")
    body = text(
        "voice.transcript",
        lang,
        language=language,
        duration=format_duration(note.duration or 0.0, lang),
        text=note.text or "",
    )
    if filed:
        kind, _, code = filed.partition(":")
        key = f"voice.filed.{kind}"
        where = text(key, lang, code=code) if key in TEXTS else filed
        body += "\n" + text("voice.filed", lang, where=where)
    return body


def thread_relation(note: VoiceNote) -> dict[str, Any]:
    """Answer in the voice message's thread (starting one on it if it was in the main timeline)."""
    return {
        "rel_type": "m.thread",
        "event_id": note.thread_root or note.event_id,
        # A reply to the thread root is implied; inside someone else's thread it is a real reply.
        "is_falling_back": note.thread_root is None,
        "m.in_reply_to": {"event_id": note.event_id},
    }


async def _say(session: AsyncSession, note: VoiceNote, body: str) -> None:
    """Edit the "transcribing" placeholder if the bot posted one, else reply in the thread."""
    ref = service.reply_ref(note.id)
    if await outbox.latest_with_ref(session, ref) is not None:
        await outbox.enqueue_edit(session, ref, outbox.text_content(body))
        return
    content = outbox.text_content(body)
    content["m.relates_to"] = thread_relation(note)
    content["m.mentions"] = {}
    await outbox.enqueue(session, content, room_id=note.room_id, ref=ref)


async def _react(session: AsyncSession, note: VoiceNote, key: str) -> None:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": note.event_id, "key": key}}
    await outbox.enqueue(session, content, room_id=note.room_id, event_type="m.reaction")


async def _unwait(session: AsyncSession, note: VoiceNote) -> None:
    """Take back the ⏳ once the answer is out (only if it was sent: its event id is needed)."""
    row = await outbox.latest_with_ref(session, service.wait_ref(note.id))
    if row is not None and row.event_id:
        await outbox.enqueue(session, {"redacts": row.event_id}, room_id=note.room_id, event_type="m.room.redaction")


def register(registry: TimerRegistry) -> None:
    registry.register_io(service.TIMER_KIND)(fire_transcribe)
