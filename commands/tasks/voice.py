"""The seam to the voice feature: a transcript in a task card's thread becomes a progress note.

Contributed by this feature (commands.tasks.feature) as one of its voice filers,
so that the voice feature knows nothing of tasks.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.plugin import TranscribedNote
from commands.tasks import service as tasks
from commands.tasks.models import TaskNote
from records import outbox
from records.clock import Clock

#: Tried after the filers of rank 0 (minutes being taken, an open incident's room): in an
#: incident room, a voice reply to a task card goes to the incident's timeline, as it always did.
RANK = 1


async def file_to_task(session: AsyncSession, note: TranscribedNote, clock: Clock) -> str | None:
    """A voice filer: returns "progress:<task>" when the note was said in a task card's thread;
    the percentage stays as it was."""
    if not note.thread_root:
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


async def amend_progress(session: AsyncSession, note: TranscribedNote, before: str, clock: Clock) -> bool:
    """The progress note of a corrected transcript says what the speaker corrected it to.

    Progress notes keep no event id: the note is the speaker's latest progress note on the
    card's task whose text is the transcript as filed."""
    if not note.thread_root or not note.text:
        return False
    ref = await outbox.ref_for_event(session, note.thread_root)
    parsed = tasks.parse_ref(ref) if ref else None
    if parsed is None:
        return False
    row = await session.scalar(
        select(TaskNote)
        .where(
            TaskNote.task_id == parsed[0],
            TaskNote.author == note.sender,
            TaskNote.kind == "progress",
            TaskNote.text == f"🎙️ {before}",
        )
        .order_by(TaskNote.id.desc())
        .limit(1)
    )
    if row is None:
        return False
    row.text = f"🎙️ {note.text}"
    return True
