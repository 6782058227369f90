"""Where a transcript goes: the built-in filers for the contexts that exist today.

Each filer looks at a finished voice note and, if the note belongs to its context, writes it
there and returns a label "kind:code" (shown to the user through the text "voice.filed.<kind>").
They import their features lazily, so a deployment without one simply skips that filer.

Contexts and their seams:
- incident room → the incident's timeline (emergency.incidents.add_timeline): ``file_to_incident``.
- task thread (a thread on a task card "task:T7") → a progress note, the percentage unchanged
  (commands.tasks.service.report_progress): ``file_to_task``.
- meeting thread while minutes are being taken → the minutes: registered by the meetings feature
  itself (commands.meetings.voice), returning "minutes:M3".
- a report being filled (emergency report wizard) → the report's fields, taken by the wizard in
  the bot (emergency.handlers_reports), where its state lives: a voice message during the wizard
  is transcribed as usual, and the reporter's "采用" fills in the fields the transcript names
  (``emergency.grammar.parse_report_fields``) or answers the open question with all of it.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from commands.voice.models import VoiceNote
from commands.voice.service import register_filer
from records import outbox
from records.clock import Clock


async def file_to_incident(session: AsyncSession, note: VoiceNote, clock: Clock) -> str | None:
    """A voice message in an open incident's room joins its timeline."""
    try:
        from emergency import incidents
    except ImportError:
        return None
    incident = await incidents.in_room(session, note.room_id)
    if incident is None or incident.status != "open":
        return None
    await incidents.add_timeline(
        session,
        incident,
        "voice",
        note.sender,
        f"🎙️ {note.text}"[:2000],
        clock=clock,
        event_id=note.event_id,
    )
    return f"timeline:{incident.code}"


async def file_to_task(session: AsyncSession, note: VoiceNote, clock: Clock) -> str | None:
    """A voice message in a task card's thread becomes a progress note of that task."""
    if not note.thread_root:
        return None
    try:
        from commands.tasks import service as tasks
    except ImportError:
        return None
    ref = await outbox.ref_for_event(session, note.thread_root)
    parsed = tasks.parse_ref(ref) if ref else None
    if parsed is None:
        return None
    task = await tasks.get_task(session, parsed[0])
    # report_progress checks that the speaker is a party to the task and that it is open; a
    # refusal (DomainError) makes file_note try the next filer.
    await tasks.report_progress(session, task.id, note.sender, task.progress, f"🎙️ {note.text}", clock)
    return f"progress:{task.code}"


def register_builtin_filers() -> None:
    """Idempotent: called when the feature loads (bot and worker alike)."""
    register_filer(file_to_incident)
    register_filer(file_to_task)
