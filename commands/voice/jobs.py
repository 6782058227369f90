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
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from prometheus_client import Histogram
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import VoiceFiler
from commands.voice import learnt, service, terms
from commands.voice.models import VoiceNote
from commands.voice.texts import TEXTS, text
from records import outbox
from records.clock import Clock
from records.config import VoiceSettings
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry
from timeparse import format_duration
from voice.decode import AudioError
from voice.engine import Transcriber, Transcript
from voice.memory import CorrectionMemory
from voice.pipeline import VoiceOptions, transcribe_bytes

log = logging.getLogger(__name__)

#: Engine errors (not the audio's fault) are retried this many times, then the user is told.
MAX_ATTEMPTS = 3
#: People's names taken from the roster per job; the prompt only has room for a few dozen terms
#: anyway, and the homophone fixer gets slower with every name.
MAX_ROSTER_NAMES = 200
#: Progress is shown in steps of this many percent (each step is one edit of the placeholder).
PROGRESS_STEP = 25
#: Confirmations that put a learnt correction in force, for a job queued before the setting
#: travelled with it (the setting's default).
DEFAULT_CONFIRMATIONS = 2

_override: Transcriber | None = None

TRANSCRIPTION_SECONDS = Histogram(
    "zhiban_transcription_seconds",
    "How long the speech engine took for one voice message, by outcome (ok, bad_audio, error, cancelled)",
    ["outcome"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)


def use_transcriber(transcriber: Transcriber | None) -> None:
    """Replace the engine in this process (tests, benchmarks); None restores the configured one."""
    global _override
    _override = transcriber


# -- options: settings → timer payload → VoiceOptions ---------------------------------------
def job_options(
    voice_settings: VoiceSettings,
    *,
    places: Iterable[str] = (),
    max_bytes: int | None = None,
    max_seconds: float | None = None,
) -> dict[str, object]:
    """What the worker needs from the bot's ``settings.voice``, as JSON for the timer payload.

    The job carries the limits the bot already checked, so that bot and worker agree about them
    even when the worker's config is edited while a note waits.
    ``names`` are the terms this office configured by hand (meeting places, the config glossary):
    they go first in the Whisper prompt, ahead of the shipped terms (see ``transcribe_bytes``).
    ``max_bytes`` and ``max_seconds`` replace the voice message limits (a meeting recording's).
    """
    glossary = [str(term) for term in voice_settings.glossary]
    names = [n for n in dict.fromkeys(str(p).strip() for p in (*places, *glossary)) if n]
    return {
        "options": {
            "model_dir": voice_settings.model_dir,
            "max_bytes": int(voice_settings.max_bytes if max_bytes is None else max_bytes),
            "max_seconds": float(voice_settings.max_seconds if max_seconds is None else max_seconds),
            "extra_terms": glossary,
        },
        "names": names,
        "memory_confirmations": int(voice_settings.memory_confirmations),
    }


def _number(value: object, default: float) -> float:
    """A number from the JSON payload; missing, zero or not a number: ``default``."""
    return float(value) if isinstance(value, int | float | str) and value else default


def _listed(value: object) -> list[object]:
    """A JSON list from the payload (anything else: none)."""
    return list(value) if isinstance(value, list | tuple) else []


def options_from_payload(payload: Mapping[str, object]) -> VoiceOptions:
    raw = payload.get("options")
    options: Mapping[str, object] = raw if isinstance(raw, Mapping) else {}
    defaults = VoiceOptions()
    model_dir = options.get("model_dir") or ""
    return VoiceOptions(
        engine=str(options.get("engine") or defaults.engine),
        model_dir=Path(str(model_dir)) if model_dir else None,
        max_bytes=int(_number(options.get("max_bytes"), defaults.max_bytes)),
        max_seconds=_number(options.get("max_seconds"), defaults.max_seconds),
        extra_terms=tuple(str(t) for t in _listed(options.get("extra_terms"))),
    )


async def names_for(session: AsyncSession, payload: Mapping[str, object]) -> list[str]:
    """The names to bias this transcription with: configured ones (payload), then the roster's."""
    configured = [str(n) for n in _listed(payload.get("names"))]
    people = await service.roster_names(session, limit=MAX_ROSTER_NAMES)
    return [n for n in dict.fromkeys(n.strip() for n in (*configured, *people)) if n]


# -- the timer ------------------------------------------------------------------------------
async def fire_transcribe(db: Database, timer: Timer, clock: Clock, filers: Sequence[VoiceFiler] = ()) -> Fired | None:
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
        claimed = note.claimed_ms
        names = await names_for(session, timer.payload)
        # The office's glossary edits (!词表) and the corrections it taught, as of this job.
        added, removed = await terms.office_edits(session)
        names = [*names, *(t for t in added if t not in names)]
        confirmations = int(timer.payload.get("memory_confirmations") or DEFAULT_CONFIRMATIONS)
        memory = await learnt.memory_in_force(session, confirmations)
    if data is None:
        await _answer(db, note_id, clock, failure=("voice.corrupt", "audio bytes missing", text("voice.corrupt", lang)))
        return None
    options = options_from_payload(timer.payload)
    progress: _Progress | None = None
    if claimed is not None and claimed >= service.PROGRESS_MIN_SECONDS * 1000:
        progress = _Progress(db, note_id, lang, claimed / 1000)
        await progress.start()
    try:
        transcript = await _run_engine(data, options, names, progress, memory=memory, without=removed)
    except AudioError as exc:
        await _answer(db, note_id, clock, failure=(exc.key, str(exc), exc.user_message(lang)))
        return None
    except Exception as exc:
        if timer.attempts + 1 < MAX_ATTEMPTS:
            raise  # run_timer retries with back-off
        log.exception("voice %s: engine failed for good", note_id)
        await _answer(db, note_id, clock, failure=("voice.engine_failed", repr(exc), text("voice.engine_failed", lang)))
        return None
    await _answer(db, note_id, clock, transcript=transcript, filers=filers)
    return None


async def _run_engine(
    data: bytes,
    options: VoiceOptions,
    names: list[str],
    progress: _Progress | None,
    *,
    memory: CorrectionMemory = CorrectionMemory(),
    without: Sequence[str] = (),
) -> Transcript:
    """Transcribe in a thread; every progress edit is written before this returns or raises,
    so a late "75%" can never replace the answer on the users' screens."""
    began = time.perf_counter()
    outcome = "error"
    try:
        transcript = await asyncio.to_thread(
            transcribe_bytes,
            data,
            options=options,
            names=names,
            progress_cb=progress.report if progress is not None else None,
            transcriber=_override,
            memory=memory,
            without=without,
        )
        outcome = "ok"
    except asyncio.CancelledError:
        outcome = "cancelled"
        if progress is not None:
            progress.abort()  # the worker is stopping: don't wait for the database
        raise
    except Exception as exc:
        outcome = "bad_audio" if isinstance(exc, AudioError) else "error"
        if progress is not None:
            await progress.close()
        raise
    finally:
        TRANSCRIPTION_SECONDS.labels(outcome).observe(time.perf_counter() - began)
    if progress is not None:
        await progress.close()
    return transcript


class _Progress:
    """The "转写中 40%" placeholder of a long message, edited as the engine reports progress.

    The engine calls ``report`` from its worker thread; the fraction hops to the event loop
    (``call_soon_threadsafe``) into a queue that one task drains, so the edits are written one
    at a time, in order, each in its own short transaction. Progress is best effort: a failed
    edit is logged and the transcription goes on.
    """

    def __init__(self, db: Database, note_id: int, lang: str, seconds: float) -> None:
        self.db, self.note_id, self.lang, self.seconds = db, note_id, lang, seconds
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[int | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._reported = 0  # only touched by the engine's thread

    async def start(self) -> None:
        """Post the placeholder (unless the bot already did) and start writing progress edits."""
        try:
            await self._write(0)
        except Exception:
            log.exception("voice %s: could not post the progress placeholder", self.note_id)
        self._task = asyncio.create_task(self._drain())

    def report(self, fraction: float) -> None:
        """The engine's progress callback (any thread): forwards each new whole step."""
        percent = int(fraction * 100) // PROGRESS_STEP * PROGRESS_STEP
        if percent <= self._reported or percent >= 100:
            return  # 100% is the transcript itself
        self._reported = percent
        self._loop.call_soon_threadsafe(self._queue.put_nowait, percent)

    async def close(self) -> None:
        """Write the edits still queued, then stop."""
        if self._task is None or self._task.done():
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.shield(self._task)
        except asyncio.CancelledError:
            self.abort()  # the job itself was cancelled while waiting
            raise

    def abort(self) -> None:
        """Stop at once; an edit being written rolls back."""
        if self._task is not None:
            self._task.cancel()

    async def _drain(self) -> None:
        while (percent := await self._queue.get()) is not None:
            try:
                await self._write(percent)
            except Exception:
                log.exception("voice %s: could not write progress %s%%", self.note_id, percent)

    async def _write(self, percent: int) -> None:
        body = text("voice.progress.reply", self.lang, percent=percent, seconds=f"{self.seconds:.0f}")
        async with self.db.transaction() as session:
            note = await session.get(VoiceNote, self.note_id, with_for_update=True)
            if note is None or note.status != "queued":
                return  # answered meanwhile (another run of this job): leave the answer alone
            ref = service.reply_ref(note.id)
            if await outbox.latest_with_ref(session, ref) is None:
                await _say(session, note, body)  # the placeholder: a reply in the thread
            elif percent > 0:
                await outbox.enqueue_edit(session, ref, outbox.text_content(body))
        # The relay polls the outbox; in the bot's process this also wakes it at once.
        outbox.wake_relay()


async def _answer(
    db: Database,
    note_id: int,
    clock: Clock,
    *,
    transcript: Transcript | None = None,
    failure: tuple[str, str, str] | None = None,
    filers: Sequence[VoiceFiler] = (),
) -> None:
    async with db.transaction() as session:
        note = await session.get(VoiceNote, note_id, with_for_update=True)
        if note is None or note.status != "queued":
            return  # another run of this job answered first
        if transcript is not None:
            await _finish(session, note, transcript, clock, filers)
        elif failure is not None:
            key, detail, reason = failure
            await _fail(session, note, key, detail, reason, clock)
    outbox.wake_relay()


async def _finish(
    session: AsyncSession, note: VoiceNote, transcript: Transcript, clock: Clock, filers: Sequence[VoiceFiler]
) -> None:
    body = transcript.text.strip()
    filed = await service.finish_note(
        session,
        note,
        text=body,
        language=transcript.language,
        duration=transcript.duration,
        engine=transcript.engine,
        clock=clock,
        filers=filers,
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


def thread_relation(note: VoiceNote) -> dict[str, object]:
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


def register(registry: TimerRegistry, filers: Sequence[VoiceFiler] = ()) -> None:
    """The transcription timer, filing transcripts with ``filers`` (the other features')."""

    async def fire(db: Database, timer: Timer, clock: Clock) -> Fired | None:
        return await fire_transcribe(db, timer, clock, filers)

    registry.register_io(service.TIMER_KIND)(fire)
