"""People correct a transcript; the office's correction memory learns from it.

``correct_note`` replaces a transcript's text (the engine's original is kept on the note and
each change in ``voice_corrections``), makes what was filed follow (the filers' ``amend``),
edits the threaded transcript in place, audits the change, and counts the misheard → right
pairs the correction teaches (``voice.memory.learn``, counted in commands/voice/learnt.py).

No Matrix here: the chat handler (handlers/correct.py) calls in, the outbox carries the edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import VoiceFiler
from commands.voice import learnt as learnt_store
from commands.voice import service, terms
from commands.voice.jobs import render_transcript
from commands.voice.models import VoiceCorrection, VoiceNote
from commands.voice.texts import text as say
from records import audit, outbox
from records.clock import Clock
from records.errors import DomainError, NotAllowed
from voice.memory import Pair, learn

#: The longest corrected text taken (a transcript is a voice message, not a document).
MAX_TEXT = 4000


@dataclass(frozen=True)
class Corrected:
    note: VoiceNote
    learnt: tuple[Pair, ...]


async def note_for_reply(session: AsyncSession, room_id: str, replied_to: str) -> VoiceNote | None:
    """The voice note a reply points at: the voice message itself, or its transcript reply."""
    note = await session.scalar(select(VoiceNote).where(VoiceNote.event_id == replied_to))
    if note is None:
        ref = await outbox.ref_for_event(session, replied_to)
        if ref and ref.startswith("voice:V") and ref[len("voice:V") :].isdigit():
            note = await session.get(VoiceNote, int(ref[len("voice:V") :]))
    return note if note is not None and note.room_id == room_id else None


async def correct_note(
    session: AsyncSession,
    note: VoiceNote,
    *,
    corrector: str,
    text: str,
    is_admin: bool,
    clock: Clock,
    filers: Sequence[VoiceFiler] = (),
) -> Corrected:
    """Replace ``note``'s transcript with ``text`` as ``corrector`` says it was said.

    Only the speaker or an admin may (others: ``voice.correct.refused``); only a finished
    transcript can be corrected.
    """
    if corrector != note.sender and not is_admin:
        raise NotAllowed("voice.correct.refused", code=note.code)
    if note.status != "done" or note.text is None:
        raise NotAllowed("voice.correct.not_ready", code=note.code)
    new = " ".join(text.split())[:MAX_TEXT]
    if not new:
        raise DomainError("voice.correct.empty")
    before = note.text
    if new == before:
        raise NotAllowed("voice.correct.same", code=note.code)
    if note.original_text is None:
        note.original_text = before
    note.text = new
    note.tokens = service.tokenize(new)
    session.add(VoiceCorrection(note_id=note.id, corrector=corrector, before=before, after=new, created_at=clock.now()))
    amended = await _amend(session, note, before, clock, filers)
    protected = [*await terms.glossary_terms(session), *await service.roster_names(session)]
    learnt = tuple(learn(before, new, protected))
    for pair in learnt:
        await learnt_store.count(session, pair, corrector=corrector, by_admin=is_admin, clock=clock)
    await audit.record(
        session,
        actor=corrector,
        action="voice.correct",
        subject=note.code,
        data={
            "before": before,
            "after": new,
            "amended": amended,
            "learnt": [f"{p.heard}→{p.right}" for p in learnt],
        },
        clock=clock,
    )
    body = render_transcript(note, note.filed_to) + "\n" + say("voice.corrected", note.lang)
    await outbox.enqueue_edit(session, service.reply_ref(note.id), outbox.text_content(body))
    return Corrected(note, learnt)


async def _amend(
    session: AsyncSession, note: VoiceNote, before: str, clock: Clock, filers: Sequence[VoiceFiler]
) -> list[str]:
    """Let each filer that offers it correct what it filed; a broken one never loses the correction."""
    if not note.filed_to:
        return []
    done = []
    for filer in filers:
        if filer.amend is None:
            continue
        try:
            async with session.begin_nested():
                if await filer.amend(session, note, before, clock):
                    done.append(note.filed_to)
        except DomainError:
            continue
    return done
