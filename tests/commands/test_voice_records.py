"""Voice records: who may send, caps, filing to incidents and tasks, and search (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from commands.tasks.voice import file_to_task
from commands.voice import service
from commands.voice.models import VoiceNote
from emergency.voice import file_to_incident
from records import outbox
from records.clock import FrozenClock
from records.db import Database
from records.errors import DomainError
from zhiban.features import VOICE_FILERS

ROOM = "!duty:localhost"
ALICE, BOB = "@alice:localhost", "@bob:localhost"
NOW = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


# -- pure checks --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sender", "allowed", "office", "ok"),
    [
        (ALICE, (), ("localhost",), True),
        ("@eve:evil.example", (), ("localhost",), False),
        ("@eve:evil.example", (), ("localhost", "@eve:evil.example"), True),
        (ALICE, ("@bob:localhost",), ("localhost",), False),  # an allow-list decides alone
        (BOB, ("@bob:localhost",), ("localhost",), True),
        ("@x:partner.example", (":partner.example",), (), True),
        ("@x:partner.example", ("*",), (), True),
        (ALICE, (), (), False),
    ],
)
def test_who_may_send_voice(sender: str, allowed: tuple[str, ...], office: tuple[str, ...], ok: bool) -> None:
    assert service.may_send_voice(sender, allowed=allowed, office=office) is ok


def test_caps_are_checked_from_the_declared_info() -> None:
    service.check_caps(size=1000, seconds=30, max_bytes=2000, max_seconds=60)
    service.check_caps(size=None, seconds=None, max_bytes=2000, max_seconds=60)
    with pytest.raises(DomainError) as big:
        service.check_caps(size=3 * 1_048_576, seconds=5, max_bytes=1_048_576, max_seconds=60)
    assert big.value.key == "voice.refuse.too_large" and big.value.params == {"size_mb": "3.0", "limit_mb": "1"}
    with pytest.raises(DomainError) as long:
        service.check_caps(size=100, seconds=601, max_bytes=2000, max_seconds=600)
    assert long.value.key == "voice.refuse.too_long" and long.value.params["limit"] == "600"
    with pytest.raises(DomainError) as empty:
        service.check_caps(size=0, seconds=None, max_bytes=2000, max_seconds=600)
    assert empty.value.key == "voice.empty"


def test_tokens_keep_office_words_whole_and_drop_punctuation() -> None:
    tokens = service.tokenize("防汛仓库今晚清点物资，值守人员八点前到岗！Spare pump OK.")
    assert tokens.startswith(" ") and tokens.endswith(" ")
    words = tokens.split()
    assert {"防汛", "到岗", "spare", "pump", "ok"} <= set(words)
    assert "，" not in words and "！" not in words


# -- records ---------------------------------------------------------------------------------
async def _done_note(
    db: Database, clock: FrozenClock, text: str, *, room: str = ROOM, sender: str = ALICE, thread: str | None = None
) -> VoiceNote:
    """A note transcribed as `text` (status done), without filing."""
    async with db.transaction() as s:
        note = await service.queue_note(
            s, room_id=room, event_id=f"$v{clock.now().timestamp()}", thread_root=thread, sender=sender,
            audio_url="mxc://localhost/a", audio=b"x", clock=clock,
        )  # fmt: skip
        note.text, note.tokens, note.status, note.language = text, service.tokenize(text), "done", "zh"
        clock.advance(timedelta(minutes=1))
        return note


async def test_search_finds_chinese_and_english_and_respects_visibility(db: Database) -> None:
    clock = FrozenClock(NOW)
    flood = await _done_note(db, clock, "防汛仓库今晚清点物资，值守人员八点前到岗。")
    rain = await _done_note(db, clock, "山区暴雨还在下，今晚全员留在局里值班。", sender=BOB)
    await _done_note(db, clock, "The spare pump has been tested.", sender=BOB)
    elsewhere = await _done_note(db, clock, "另一个房间的防汛会议。", room="!other:localhost", sender=BOB)
    mine_elsewhere = await _done_note(db, clock, "我在别处说的防汛物资。", room="!other:localhost", sender=ALICE)

    async with db.reading() as s:
        terms, hits = await service.search(s, user=ALICE, room_id=ROOM, query="防汛")
        assert terms == ["防汛"]
        codes = [h.code for h in hits]
        assert flood.code in codes and mine_elsewhere.code in codes
        assert elsewhere.code not in codes  # Bob's note in a room this query does not come from

        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="暴雨 值班")
        assert [h.code for h in hits] == [rain.code]
        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="暴雨 到岗")
        assert hits == []  # every word must be there ("到岗" is not in the rain note)

        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="Pump")
        assert len(hits) == 1 and hits[0].text.startswith("The spare")
        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="test")
        assert hits == []  # English matches whole words: "test" is not "tested"
        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="tested")
        assert len(hits) == 1
        _, hits = await service.search(s, user=ALICE, room_id=ROOM, query="100%_")
        assert hits == []  # LIKE wildcards are escaped


def test_snippet_centres_on_the_term() -> None:
    long = "开头" * 40 + "防汛物资已经到位" + "结尾" * 40
    snip = service.snippet(long, ["防汛"], width=30)
    assert "防汛" in snip and snip.startswith("…") and snip.endswith("…") and len(snip) <= 32


async def _open_incident(s: AsyncSession) -> str:
    """An open incident whose room is ROOM; its code."""
    from emergency.models import Incident

    incident = Incident(
        grade=2, category="flood", title="城区内涝", status="open", room_id=ROOM, declared_by=BOB,
        declared_at=NOW, roles={}, members=[BOB], first_minutes=30, update_minutes=120,
        remind_minutes=10, ack_minutes=10, nag_escalate_after=2, nag_max=6,
    )  # fmt: skip
    s.add(incident)
    await s.flush()
    return incident.code


async def test_file_to_open_incident_timeline(db: Database) -> None:
    from emergency import incidents
    from emergency.models import TimelineEntry

    clock = FrozenClock(NOW)
    async with db.transaction() as s:
        code = await _open_incident(s)
    note = await _done_note(db, clock, "二号泵站水位上涨，已安排人员到岗。")
    async with db.transaction() as s:
        fresh = await s.get(VoiceNote, note.id)
        assert fresh is not None
        assert await service.file_note(s, fresh, clock, VOICE_FILERS) == f"timeline:{code}"
        entries = list(await s.scalars(select(TimelineEntry)))
        assert [(e.kind, e.actor, e.event_id) for e in entries] == [("voice", ALICE, fresh.event_id)]
        assert "二号泵站" in entries[0].text
        # A closed incident takes no more voice notes.
        inc = await incidents.in_room(s, ROOM)
        assert inc is not None
        inc.status = "closed"
        assert await file_to_incident(s, fresh, clock) is None
        # A room without an incident: nothing.
        fresh.room_id = "!other:localhost"
        assert await file_to_incident(s, fresh, clock) is None


async def test_file_to_task_thread_as_progress_note(db: Database) -> None:
    from commands.tasks import service as tasks
    from commands.tasks.models import TaskNote

    clock = FrozenClock(NOW)
    async with db.transaction() as s:
        task = await tasks.create_task(
            s, assigner=BOB, lead=ALICE, title="检查应急水泵", due_at=NOW + timedelta(days=2), clock=clock
        )
        card = await outbox.enqueue(s, outbox.text_content("T card"), room_id=ROOM, ref=tasks.card_ref(task.id))
        card.event_id, card.sent_at = "$taskcard", NOW
        task_code = task.code
    in_thread = await _done_note(db, clock, "水泵已经检查完毕，油量充足。", thread="$taskcard")
    outsider = await _done_note(db, clock, "我也来说一句。", thread="$taskcard", sender="@carol:localhost")
    unrelated = await _done_note(db, clock, "无关的线程。", thread="$something")
    async with db.transaction() as s:
        note = await s.get(VoiceNote, in_thread.id)
        assert note is not None
        assert await file_to_task(s, note, clock) == f"progress:{task_code}"
        notes = list(await s.scalars(select(TaskNote).where(TaskNote.kind == "progress")))
        assert len(notes) == 1 and "油量充足" in notes[0].text and notes[0].author == ALICE
        other = await s.get(VoiceNote, outsider.id)
        assert other is not None
        # Carol is no party to the task: the task refuses, file_note moves on and files nowhere.
        assert await service.file_note(s, other, clock, VOICE_FILERS) is None
        unrel = await s.get(VoiceNote, unrelated.id)
        assert unrel is not None
        assert await file_to_task(s, unrel, clock) is None
        assert len(list(await s.scalars(select(TaskNote).where(TaskNote.kind == "progress")))) == 1


async def test_in_an_open_incident_room_a_voice_reply_to_a_task_card_joins_the_incident_timeline(
    db: Database,
) -> None:
    from commands.tasks import service as tasks
    from commands.tasks.models import TaskNote
    from emergency.models import TimelineEntry

    clock = FrozenClock(NOW)
    async with db.transaction() as s:
        code = await _open_incident(s)
        task = await tasks.create_task(
            s, assigner=BOB, lead=ALICE, title="转移低洼住户", due_at=NOW + timedelta(days=1), clock=clock
        )
        card = await outbox.enqueue(s, outbox.text_content("T card"), room_id=ROOM, ref=tasks.card_ref(task.id))
        card.event_id, card.sent_at = "$taskcard", NOW
    note = await _done_note(db, clock, "三户已转移。", thread="$taskcard")
    async with db.transaction() as s:
        fresh = await s.get(VoiceNote, note.id)
        assert fresh is not None
        assert await service.file_note(s, fresh, clock, VOICE_FILERS) == f"timeline:{code}"
        assert [e.kind for e in await s.scalars(select(TimelineEntry))] == ["voice"]
        assert list(await s.scalars(select(TaskNote).where(TaskNote.kind == "progress"))) == []
