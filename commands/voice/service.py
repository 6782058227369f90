"""Voice notes as records: queue, finish or fail, file to their context, and search.

No Matrix here: the chat handler records the note (``receive_note``), the bot's outbox relay
stores the bytes it fetched (``store_audio``, see commands/voice/fetch.py), and the worker
(commands/voice/jobs.py) calls ``finish_note`` / ``fail_note`` with the transcript.

Filing asks the filers other features contribute (commands.plugin.VoiceFiler), handed in by
the wiring, so that this module knows none of them. The searchers they contribute
(commands.plugin.Feature.searchers) join ``!search`` the same way (``register_searcher``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from types import ModuleType
from typing import NotRequired, TypedDict, Unpack

from sqlalchemy import delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import VoiceFiler
from commands.record_search import Searcher, SearchHit
from commands.visibility import like_escape
from commands.voice import access
from commands.voice.models import VoiceAudio, VoiceNote
from records import audit, timers
from records.clock import Clock
from records.errors import DomainError
from records.models import Person
from voice.glossary import DEFAULT_TERMS

log = logging.getLogger(__name__)

TIMER_KIND = "voice.transcribe"
#: Claimed duration from which a "转写中 0%" reply is posted and edited as the worker progresses.
PROGRESS_MIN_SECONDS = 20.0


def timer_key(note_id: int) -> str:
    return f"voice:V{note_id}"


def reply_ref(note_id: int) -> str:
    """The transcript reply (or its "transcribing" placeholder) of note ``note_id``."""
    return f"voice:V{note_id}"


def wait_ref(note_id: int) -> str:
    """The ⏳ reaction, removed when the note is finished."""
    return f"voice:V{note_id}:wait"


# -- authorization and caps ----------------------------------------------------------------
def may_send_voice(sender: str, *, allowed: Sequence[str] = (), office: Sequence[str] = ()) -> bool:
    """Whether ``sender``'s voice may be transcribed (checked before anything is downloaded).

    ``allowed``: the voice allow-list from config (user ids, ":server" or "server" entries, "*");
    when it is non-empty it decides alone. Otherwise the sender must belong to the office: a
    server or user of ``office`` (the bot's join policy), so a federated stranger in a shared room
    does not get the office's transcription for free.
    """
    server = sender.split(":", 1)[1] if ":" in sender else ""
    rules = list(allowed) or list(office)
    for rule in rules:
        if rule == "*" or rule == sender or rule.lstrip(":") == server:
            return True
    return False


def check_caps(*, size: int | None, seconds: float | None, max_bytes: int, max_seconds: float) -> None:
    """Refuse what is over the limits, from the sizes the event declares (before downloading)."""
    if size is not None and size > max_bytes:
        raise DomainError("voice.refuse.too_large", size_mb=f"{size / 1_048_576:.1f}", limit_mb=_mb(max_bytes))
    if seconds is not None and seconds > max_seconds:
        raise DomainError("voice.refuse.too_long", seconds=f"{seconds:.0f}", limit=f"{max_seconds:g}")
    if size == 0:
        raise DomainError("voice.empty")


def _mb(n: int) -> str:
    return f"{n / 1_048_576:g}"


# -- receive, queue, finish, fail ----------------------------------------------------------
async def receive_note(
    session: AsyncSession,
    *,
    room_id: str,
    event_id: str,
    thread_root: str | None,
    sender: str,
    audio_url: str,
    clock: Clock,
    file_info: dict[str, object] | None = None,
    mimetype: str | None = None,
    claimed_ms: int | None = None,
    lang: str = "zh",
) -> tuple[VoiceNote, bool]:
    """Record a voice message whose audio is still to be fetched: (the note, whether it is new).

    The note is "queued" from here on (a report waiting for it says so); its bytes and the
    transcription job follow with ``store_audio`` once the bot has fetched them
    (commands.voice.fetch), or ``fail_note`` says why they never will.
    """
    existing = await session.scalar(select(VoiceNote).where(VoiceNote.event_id == event_id))
    if existing is not None:
        return existing, False  # the same event twice (the ledger should already prevent it)
    note = VoiceNote(
        room_id=room_id,
        event_id=event_id,
        thread_root=thread_root,
        sender=sender,
        audio_url=audio_url,
        file_info=file_info,
        mimetype=mimetype,
        claimed_ms=claimed_ms,
        lang=lang,
        status="queued",
        created_at=clock.now(),
    )
    session.add(note)
    await session.flush()
    await audit.record(
        session,
        actor=sender,
        action="voice.receive",
        subject=note.code,
        data={"room": room_id, "event": event_id, "claimed_ms": claimed_ms},
        clock=clock,
    )
    return note, True


async def store_audio(
    session: AsyncSession, note: VoiceNote, audio: bytes, *, clock: Clock, job: dict[str, object] | None = None
) -> None:
    """Keep a received note's bytes and schedule the durable transcription job.

    The timer row *is* the job: rq only carries it, and a worker that dies mid-job leaves the
    claim to lapse so that another worker runs it again. ``job`` is extra payload for the worker
    (the engine options), since timer handlers receive no settings.
    """
    note.size = len(audio)
    session.add(VoiceAudio(note_id=note.id, data=audio))
    payload = {"note": note.id, **(job or {})}
    # Due since the message arrived: on whatever clock the handler ran (the relay's is the
    # system's), the job is never scheduled ahead of the message.
    await timers.schedule(session, TIMER_KIND, note.created_at, payload, key=timer_key(note.id), clock=clock)
    await audit.record(
        session,
        actor=note.sender,
        action="voice.queue",
        subject=note.code,
        data={"room": note.room_id, "event": note.event_id, "bytes": len(audio), "claimed_ms": note.claimed_ms},
        clock=clock,
    )


class NoteFields(TypedDict):
    """What ``receive_note`` records of a voice message (``queue_note`` hands them on)."""

    room_id: str
    event_id: str
    thread_root: str | None
    sender: str
    audio_url: str
    file_info: NotRequired[dict[str, object] | None]
    mimetype: NotRequired[str | None]
    claimed_ms: NotRequired[int | None]
    lang: NotRequired[str]


async def queue_note(
    session: AsyncSession,
    *,
    audio: bytes,
    clock: Clock,
    job: dict[str, object] | None = None,
    **fields: Unpack[NoteFields],
) -> VoiceNote:
    """Store a voice message with bytes already in hand and schedule its transcription."""
    note, new = await receive_note(session, clock=clock, **fields)
    if new:
        await store_audio(session, note, audio, clock=clock, job=job)
    return note


async def get_note(session: AsyncSession, note_id: int) -> VoiceNote | None:
    return await session.get(VoiceNote, note_id)


async def latest_note(
    session: AsyncSession, *, room_id: str, sender: str, since: datetime, note_id: int | None = None
) -> VoiceNote | None:
    """``sender``'s most recent voice message in ``room_id`` received at or after ``since``
    (with ``note_id``: that one, if it is theirs, there, and recent enough)."""
    query = select(VoiceNote).where(
        VoiceNote.room_id == room_id, VoiceNote.sender == sender, VoiceNote.created_at >= since
    )
    if note_id is not None:
        query = query.where(VoiceNote.id == note_id)
    return await session.scalar(query.order_by(VoiceNote.created_at.desc(), VoiceNote.id.desc()).limit(1))


async def roster_names(session: AsyncSession, *, limit: int = 200) -> list[str]:
    """People's display names known to Zhiban, for the transcription glossary.

    Names are what a generic model gets wrong most, and the worker has no Matrix login to look
    them up: the ``people`` table is what it knows.
    """
    rows = await session.scalars(
        select(Person.display_name)
        .where(Person.display_name.is_not(None), Person.display_name != "")
        .distinct()
        .order_by(Person.display_name)
        .limit(limit)
    )
    return [name for name in rows if name]


async def load_audio(session: AsyncSession, note_id: int) -> bytes | None:
    return await session.scalar(select(VoiceAudio.data).where(VoiceAudio.note_id == note_id))


async def finish_note(
    session: AsyncSession,
    note: VoiceNote,
    *,
    text: str,
    language: str,
    duration: float,
    engine: str,
    clock: Clock,
    filers: Sequence[VoiceFiler] = (),
) -> str | None:
    """Store the transcript, file it (``filers``), drop the bytes; returns where it was filed (or None).

    An empty ``text`` (silence, or only filler the clean-up removed) is stored as status "empty"
    and filed nowhere.
    """
    note.text = text
    note.tokens = tokenize(text) if text else None
    note.language = language
    note.duration = duration
    note.engine = engine
    note.status = "done" if text else "empty"
    note.finished_at = clock.now()
    await session.execute(delete(VoiceAudio).where(VoiceAudio.note_id == note.id))
    filed = await file_note(session, note, clock, filers) if text else None
    note.filed_to = filed
    await audit.record(
        session,
        actor=note.sender,
        action="voice.transcribe",
        subject=note.code,
        data={"status": note.status, "language": language, "seconds": round(duration, 1), "filed": filed},
        clock=clock,
    )
    return filed


async def fail_note(session: AsyncSession, note: VoiceNote, *, key: str, detail: str, clock: Clock) -> None:
    """The audio could not be transcribed: keep why, drop the bytes."""
    note.status = "failed"
    note.error_key = key
    note.error_detail = detail[:2000]
    note.finished_at = clock.now()
    await session.execute(delete(VoiceAudio).where(VoiceAudio.note_id == note.id))
    await audit.record(
        session, actor=note.sender, action="voice.fail", subject=note.code, data={"error": key}, clock=clock
    )


# -- filing ---------------------------------------------------------------------------------
# Each feature contributes its own filers (commands.plugin.VoiceFiler: meetings the minutes,
# emergency an open incident's timeline, tasks a task card's thread) and the wiring (zhiban)
# hands them to this feature, so this module knows none of them. A report being filled is no
# filer: the report wizard in the bot, where its state lives, takes the transcript when the
# reporter says 采用.
async def file_note(session: AsyncSession, note: VoiceNote, clock: Clock, filers: Sequence[VoiceFiler]) -> str | None:
    """Where the note was filed: the label of the first filer (by rank) that took it, or None.

    A filer that declines (DomainError) or breaks is skipped inside a savepoint, so it leaves
    nothing behind and a bug in one feature never loses the transcript.
    """
    for filer in sorted(filers, key=lambda f: f.rank):  # stable: the features' order within a rank
        name = getattr(filer.file, "__name__", repr(filer.file))
        try:
            async with session.begin_nested():
                label = await filer.file(session, note, clock)
        except DomainError as exc:
            log.info("filer %s declined %s: %s", name, note.code, exc.key)
            continue
        except Exception:
            log.exception("filer %s failed on %s", name, note.code)
            continue
        if label:
            return str(label)
    return None


# -- search ---------------------------------------------------------------------------------
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


# The jieba module: it ships no type hints, so its calls are read through ModuleType.
_JIEBA: ModuleType | None = None


def _jieba() -> ModuleType:
    """jieba, taught the office's glossary once (到岗, 首报, 续报 ... are one word each)."""
    global _JIEBA
    if _JIEBA is None:
        import jieba  # on first use: a process that never searches or indexes never loads it

        jieba.setLogLevel(logging.WARNING)
        for term in DEFAULT_TERMS:
            jieba.add_word(term)
        _JIEBA = jieba
    return _JIEBA


def add_search_words(words: Iterable[str]) -> None:
    """More words to keep whole when indexing (people's and places' names from config)."""
    jieba = _jieba()
    for word in words:
        if word.strip():
            jieba.add_word(word.strip())


def terms_of(text: str) -> list[str]:
    """Search-mode words of ``text``: lower-case, punctuation dropped, each once, in order."""
    words = (w.strip().lower() for w in _jieba().cut_for_search(text))
    return list(dict.fromkeys(w for w in words if w and not _PUNCT.fullmatch(w)))


def tokenize(text: str) -> str:
    """The indexed form: " 防汛 应急 响应 " (padded, so that LIKE '% word %' matches whole words)."""
    return " " + " ".join(terms_of(text)) + " "


# The other features' searchers (commands.record_search.Searcher): the wiring registers those
# their plug-ins list (commands/voice/feature.py), so that this module knows none of them.
_SEARCHERS: list[Searcher] = []


def register_searcher(fn: Searcher) -> Searcher:
    if fn not in _SEARCHERS:
        _SEARCHERS.append(fn)
    return fn


def unregister_searcher(fn: Searcher) -> None:
    if fn in _SEARCHERS:
        _SEARCHERS.remove(fn)


async def search_voice(
    session: AsyncSession,
    *,
    user: str,
    room_id: str,
    terms: Sequence[str],
    limit: int = 10,
    roles: Collection[str] = (),
) -> list[SearchHit]:
    """Transcripts the user may see (commands.voice.access): this room's, and their own anywhere.

    A note matches when every term is in it as an indexed jieba word. Chinese terms also match
    as a substring of the text, a fallback for words jieba cut differently in the query and in
    the text; other terms match whole words only ("in" must not hit "training"). Notes with more
    whole-word hits rank first, then the newest.
    """
    if not terms:
        return []
    conditions = []
    scores = []
    for term in terms:
        esc = like_escape(term)
        whole = VoiceNote.tokens.like(f"% {esc} %", escape="\\")
        if _CJK.search(term):
            conditions.append(or_(whole, func.lower(VoiceNote.text).like(f"%{esc}%", escape="\\")))
        else:
            conditions.append(whole)
        scores.append(whole)
    query = (
        select(VoiceNote)
        .where(
            VoiceNote.status == "done",
            or_(VoiceNote.room_id == room_id, VoiceNote.sender == user),
            *conditions,
        )
        .order_by(VoiceNote.created_at.desc())
        .limit(200)
    )
    hits = []
    for note in await session.scalars(query):
        # The query above narrows by the same rule; the rule itself has the last word.
        if not await access.can_see(session, note, user, roles, room_id=room_id):
            continue
        padded = note.tokens or ""
        score = sum(1 for t in terms if f" {t} " in padded)
        hits.append(
            SearchHit(
                kind="voice",
                code=note.code,
                at=note.created_at,
                author=note.sender,
                room_id=note.room_id,
                text=note.text or "",
                score=score,
            )
        )
    hits.sort(key=lambda h: (h.score, h.at), reverse=True)
    return hits[:limit]


async def search(
    session: AsyncSession, *, user: str, room_id: str, query: str, limit: int = 10, roles: Collection[str] = ()
) -> tuple[list[str], list[SearchHit]]:
    """(the words searched for, the hits): transcripts and whatever other features registered."""
    terms = terms_of(query)
    # jieba's search mode also yields the parts of long words ("防汛" and "防汛抗旱"); a note must
    # contain the query's words, so keep only words that are not part of a longer one given.
    terms = [t for t in terms if not any(t != o and t in o for o in terms)]
    hits = await search_voice(session, user=user, room_id=room_id, terms=terms, limit=limit, roles=roles)
    for fn in list(_SEARCHERS):
        try:
            async with session.begin_nested():
                found = await fn(session, user=user, room_id=room_id, terms=terms, limit=limit, roles=frozenset(roles))
                hits.extend(found)
        except Exception:
            log.exception("searcher %s failed", getattr(fn, "__name__", fn))
    hits.sort(key=lambda h: (h.score, h.at), reverse=True)
    return terms, hits[:limit]


def snippet(text: str, terms: Iterable[str], width: int = 60) -> str:
    """A short excerpt around the first term found (the whole text if short)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    lower = flat.lower()
    positions = [lower.find(t) for t in terms if lower.find(t) >= 0]
    start = max(0, min(positions) - width // 3) if positions else 0
    end = min(len(flat), start + width)
    return ("…" if start else "") + flat[start:end] + ("…" if end < len(flat) else "")
