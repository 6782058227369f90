"""A voice message in a task card's thread becomes a progress note (through the voice filers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from commands.tasks import service
from commands.tasks.models import Task, TaskNote
from commands.voice.service import file_note
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from zhiban.features import VOICE_FILERS

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
ROOM = "!office:localhost"
BOSS = "@boss:localhost"
LEAD = "@lead:localhost"
EVE = "@eve:localhost"


@dataclass
class FakeNote:
    """The fields of commands.voice.models.VoiceNote that filers read."""

    thread_root: str | None
    sender: str
    text: str
    room_id: str = ROOM
    event_id: str = "$voice"
    code: str = "V1"


async def _task_with_card(db: Database, clock: FrozenClock) -> int:
    async with db.transaction() as session:
        task = await service.create_task(
            session, assigner=BOSS, lead=LEAD, title="整理会议纪要", due_at=T0 + timedelta(days=3), clock=clock
        )
        await outbox.enqueue(session, outbox.text_content("📌 card"), room_id=ROOM, ref=service.card_ref(task.id))
        card = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.ref == service.card_ref(task.id), OutboxMessage.room_id == ROOM)
        )
        assert card is not None
        card.event_id = "$card"  # as the relay records it once sent
        return task.id


async def test_a_transcript_in_the_card_thread_is_a_progress_note(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _task_with_card(db, clock)
    async with db.transaction() as session:
        label = await file_note(session, FakeNote("$card", LEAD, "初稿已经写了一半"), clock, VOICE_FILERS)  # type: ignore[arg-type]
    assert label == f"progress:T{tid}"
    async with db.reading() as session:
        notes = list(
            await session.scalars(select(TaskNote).where(TaskNote.task_id == tid, TaskNote.kind == "progress"))
        )
        assert [(n.author, n.text, n.percent) for n in notes] == [(LEAD, "🎙️ 初稿已经写了一半", 0)]
        task = await session.get(Task, tid)
        assert task is not None and task.progress == 0  # a spoken note does not move the percentage
        assert await session.scalar(select(AuditEntry).where(AuditEntry.action == "task.progress")) is not None
        told = await session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.to_user == BOSS, OutboxMessage.content["body"].as_string().contains("初稿")
            )
        )
        assert told is not None  # the assigner hears about it


async def test_a_strangers_voice_or_another_thread_is_not_filed(db: Database) -> None:
    clock = FrozenClock(T0)
    tid = await _task_with_card(db, clock)
    async with db.transaction() as session:
        assert await file_note(session, FakeNote("$card", EVE, "我也说两句"), clock, VOICE_FILERS) is None  # type: ignore[arg-type]
        assert await file_note(session, FakeNote("$elsewhere", LEAD, "闲聊"), clock, VOICE_FILERS) is None  # type: ignore[arg-type]
        assert await file_note(session, FakeNote(None, LEAD, "不在线程里"), clock, VOICE_FILERS) is None  # type: ignore[arg-type]
    async with db.reading() as session:
        kinds = list(await session.scalars(select(TaskNote.kind).where(TaskNote.task_id == tid)))
    assert kinds == ["created"]
