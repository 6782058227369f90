"""The voice flow at the service level, on SQLite and PostgreSQL, with a fake transcriber.

queue a note → the "voice.transcribe" timer runs (as a worker would) → transcript stored, filed,
and answered through the outbox (threaded reply, ✅, ⏳ taken back); failures answer with ⚠️.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

import commands.voice.jobs as jobs
from commands.plugin import TranscribedNote, VoiceFiler
from commands.voice import service
from commands.voice.models import VoiceAudio, VoiceNote
from commands.voice.texts import text
from records.clock import Clock, FrozenClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage, Timer
from records.timers import CLAIM_LEASE, TimerRegistry, claim_due, run_timer
from tests.support.voice_samples import MISSING_REASON, SHARED_VOICE
from voice.engine import Segment, Transcript

VOICE = SHARED_VOICE
FLOOD = (VOICE / "zh_tts_flood.ogg").read_bytes() if (VOICE / "zh_tts_flood.ogg").is_file() else b""
pytestmark = pytest.mark.skipif(not FLOOD, reason=MISSING_REASON)
ROOM = "!room:localhost"
ALICE = "@alice:localhost"


class FakeTranscriber:
    """Implements voice.engine.Transcriber; returns a fixed text and records what it heard."""

    name = "fake"

    def __init__(self, text: str = "防汛仓库今晚清点物资，值守人员八点前到岗。", language: str = "zh") -> None:
        self.text, self.language = text, language
        self.calls: list[int] = []
        self.prompts: list[Any] = []
        self.progress: tuple[float, ...] = ()  # fractions to report, as a real engine would
        self.fail_times = 0
        self.gate: Any = None  # a threading.Event to hold the "worker" mid-job
        self.entered = threading.Event()

    def transcribe(self, audio: np.ndarray, *, hotwords: Any = None, prompt: Any = None, progress_cb: Any = None):  # type: ignore[no-untyped-def]
        self.calls.append(int(audio.size))
        self.prompts.append(prompt)
        if progress_cb is not None:
            for fraction in self.progress:
                progress_cb(fraction)
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(30)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise RuntimeError("engine exploded")
        seconds = audio.size / 16000
        segments = (Segment(0.0, seconds, self.text),) if self.text else ()
        return Transcript(self.text, self.language, seconds, segments, self.name)


@pytest.fixture
def fake() -> Iterator[FakeTranscriber]:
    engine = FakeTranscriber()
    jobs.use_transcriber(engine)
    yield engine
    jobs.use_transcriber(None)


@pytest.fixture
def registry() -> TimerRegistry:
    reg = TimerRegistry()
    jobs.register(reg)
    return reg


def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 26, 7, 0, tzinfo=UTC))


async def queue(db: Database, clk: FrozenClock, audio: bytes = FLOOD, **kw: Any) -> int:
    async with db.transaction() as s:
        note = await service.queue_note(
            s,
            room_id=kw.pop("room_id", ROOM),
            event_id=kw.pop("event_id", "$voice1"),
            thread_root=kw.pop("thread_root", None),
            sender=kw.pop("sender", ALICE),
            audio_url="mxc://localhost/abc",
            audio=audio,
            clock=clk,
            mimetype="audio/ogg",
            claimed_ms=kw.pop("claimed_ms", 3000),
            lang=kw.pop("lang", "zh"),
            job=kw.pop("job", {"options": {"max_seconds": 60}}),
        )
        return note.id


async def pump(db: Database, registry: TimerRegistry, clk: FrozenClock) -> list[str]:
    return [await run_timer(db, tid, registry, clk) for tid in await claim_due(db, clk)]


async def outbox_rows(db: Database) -> list[OutboxMessage]:
    async with db.reading() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def get(db: Database, note_id: int) -> VoiceNote:
    async with db.reading() as s:
        note = await s.get(VoiceNote, note_id)
        assert note is not None
        return note


async def test_queue_then_transcribe_answers_in_thread(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    note_id = await queue(db, clk)
    async with db.reading() as s:
        timer = await s.scalar(select(Timer).where(Timer.key == service.timer_key(note_id)))
        assert timer is not None and timer.kind == "voice.transcribe" and timer.payload["note"] == note_id
        assert await service.load_audio(s, note_id) == FLOOD
    assert await pump(db, registry, clk) == ["done"]
    assert len(fake.calls) == 1 and fake.calls[0] > 16000  # real decoded audio reached the engine

    note = await get(db, note_id)
    assert note.status == "done" and note.language == "zh" and note.engine == "fake"
    assert note.text == fake.text and note.duration and 2 < note.duration < 10
    assert note.tokens and " 防汛 " in note.tokens and " 到岗 " in note.tokens
    async with db.reading() as s:
        assert await s.scalar(select(func.count()).select_from(VoiceAudio)) == 0  # bytes dropped

    rows = await outbox_rows(db)
    reply = next(r for r in rows if r.event_type == "m.room.message")
    assert fake.text in reply.content["body"] and "中文" in reply.content["body"]
    rel = reply.content["m.relates_to"]
    assert rel["rel_type"] == "m.thread" and rel["event_id"] == "$voice1" and rel["is_falling_back"] is True
    assert rel["m.in_reply_to"] == {"event_id": "$voice1"}
    keys = [r.content["m.relates_to"]["key"] for r in rows if r.event_type == "m.reaction"]
    assert keys == ["✅"]

    # The job delivered again (rq retry, a second pump): nothing more is said.
    async with db.transaction() as s:
        timer = await s.scalar(select(Timer).where(Timer.key == service.timer_key(note_id)))
        assert timer is not None
    assert await jobs.fire_transcribe(db, timer, clk) is None
    assert len(await outbox_rows(db)) == len(rows)
    assert len(fake.calls) == 1


async def test_reply_inside_an_existing_thread_is_a_real_reply(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    await queue(db, clk, thread_root="$root")
    await pump(db, registry, clk)
    reply = next(r for r in await outbox_rows(db) if r.event_type == "m.room.message")
    rel = reply.content["m.relates_to"]
    assert rel["event_id"] == "$root" and rel["is_falling_back"] is False
    assert rel["m.in_reply_to"] == {"event_id": "$voice1"}


async def test_english_reply_for_an_english_speaker(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    fake.text, fake.language = "The meeting moves to 3 pm.", "en"
    clk = clock()
    await queue(db, clk, lang="en")
    await pump(db, registry, clk)
    reply = next(r for r in await outbox_rows(db) if r.event_type == "m.room.message")
    assert reply.content["body"].startswith("🎙️ Voice transcript (English,")


async def test_corrupt_audio_gets_a_reason_and_a_warning(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    note_id = await queue(db, clk, audio=b"OggS" + b"\x00garbage" * 200)
    assert await pump(db, registry, clk) == ["done"]
    note = await get(db, note_id)
    assert note.status == "failed" and note.error_key == "voice.corrupt"
    rows = await outbox_rows(db)
    body = next(r for r in rows if r.event_type == "m.room.message").content["body"]
    assert body == text("voice.failed", "zh", reason=text("voice.corrupt", "zh"))
    assert [r.content["m.relates_to"]["key"] for r in rows if r.event_type == "m.reaction"] == ["⚠️"]
    assert fake.calls == []  # the engine never saw it


async def test_audio_longer_than_the_job_limit_is_refused(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    long = (VOICE / "zh_tts_long.ogg").read_bytes()  # ~50 s
    async with db.transaction() as s:
        note = await service.queue_note(
            s, room_id=ROOM, event_id="$long", thread_root=None, sender=ALICE, audio_url="mxc://x/y",
            audio=long, clock=clk, job={"options": {"max_seconds": 10}},
        )  # fmt: skip
    await pump(db, registry, clk)
    assert (await get(db, note.id)).error_key == "voice.too_long"
    body = next(r for r in await outbox_rows(db) if r.event_type == "m.room.message").content["body"]
    assert "上限为 10 秒" in body


async def test_silence_is_answered_not_filed(db: Database, fake: FakeTranscriber, registry: TimerRegistry) -> None:
    fake.text = ""
    clk = clock()
    note_id = await queue(db, clk)
    await pump(db, registry, clk)
    note = await get(db, note_id)
    assert note.status == "empty" and note.filed_to is None
    rows = await outbox_rows(db)
    assert text("voice.no_speech", "zh") in next(r for r in rows if r.event_type == "m.room.message").content["body"]
    assert [r.content["m.relates_to"]["key"] for r in rows if r.event_type == "m.reaction"] == ["⚠️"]


async def test_engine_failure_is_retried_then_reported(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    fake.fail_times = 1
    note_id = await queue(db, clk)
    assert await pump(db, registry, clk) == ["error"]  # rolled back, retried later
    assert await outbox_rows(db) == []
    clk.advance(timedelta(minutes=1))
    assert await pump(db, registry, clk) == ["done"]  # second attempt succeeds
    assert (await get(db, note_id)).status == "done"

    fake.fail_times = 99
    other = await queue(db, clk, event_id="$voice2")
    for _ in range(jobs.MAX_ATTEMPTS):
        clk.advance(timedelta(minutes=15))
        await pump(db, registry, clk)
    note = await get(db, other)
    assert note.status == "failed" and note.error_key == "voice.engine_failed"
    bodies = [r.content["body"] for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    assert bodies[-1] == text("voice.failed", "zh", reason=text("voice.engine_failed", "zh"))


async def test_worker_killed_mid_job_posts_exactly_one_transcript(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    clk = clock()
    note_id = await queue(db, clk)
    gate = threading.Event()
    fake.gate = gate
    ids = await claim_due(db, clk)
    job = asyncio.create_task(run_timer(db, ids[0], registry, clk))
    assert await asyncio.to_thread(fake.entered.wait, 30)  # the "worker" is inside the transcription
    job.cancel()  # killed: its transaction never commits
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert await outbox_rows(db) == []
    assert await claim_due(db, clk) == []  # still claimed by the dead worker...
    clk.advance(CLAIM_LEASE + timedelta(seconds=1))
    fake.gate = None
    assert await pump(db, registry, clk) == ["done"]  # ...until the claim lapses
    assert await pump(db, registry, clk) == []
    bodies = [r for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    assert len(bodies) == 1 and fake.text in bodies[0].content["body"]
    assert (await get(db, note_id)).status == "done"


async def test_filers_file_and_label_the_reply(db: Database, fake: FakeTranscriber) -> None:
    seen: list[str] = []

    async def broken(session: AsyncSession, note: TranscribedNote, clk: Clock) -> str | None:
        raise RuntimeError("a filer bug must not lose the transcript")

    async def minutes(session: AsyncSession, note: TranscribedNote, clk: Clock) -> str | None:
        seen.append(note.text or "")
        return "minutes:M3" if note.thread_root == "$meeting" else None

    # As the features contribute them: the one that files first, the broken one after it.
    filing = TimerRegistry()
    jobs.register(filing, [VoiceFiler(broken, rank=1), VoiceFiler(minutes)])
    clk = clock()
    in_meeting = await queue(db, clk, thread_root="$meeting")
    elsewhere = await queue(db, clk, event_id="$voice2")
    await pump(db, filing, clk)
    assert seen == [fake.text, fake.text]
    assert (await get(db, in_meeting)).filed_to == "minutes:M3"
    assert (await get(db, elsewhere)).filed_to is None
    bodies = [r.content["body"] for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    assert sum("已记入 M3 会议纪要" in b for b in bodies) == 1
    async with db.reading() as s:
        actions = list(await s.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions.count("voice.queue") == 2 and actions.count("voice.transcribe") == 2


async def test_placeholder_is_edited_into_the_transcript(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    from records import outbox

    clk = clock()
    note_id = await queue(db, clk)
    async with db.transaction() as s:
        await outbox.enqueue(s, outbox.text_content("🎙️ 转写中…"), room_id=ROOM, ref=service.reply_ref(note_id))
    await pump(db, registry, clk)
    rows = [r for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    assert len(rows) == 2 and rows[1].relation == "m.replace" and rows[1].relates_to_outbox_id == rows[0].id
    assert fake.text in rows[1].content["m.new_content"]["body"]


# -- progress of long messages ------------------------------------------------------------
def _bodies(rows: list[OutboxMessage]) -> list[str]:
    """What users see in turn: a message's body, or an edit's new body."""
    out = []
    for row in rows:
        if row.event_type == "m.room.message":
            content = row.content.get("m.new_content") or row.content
            out.append(content["body"])
    return out


async def test_long_message_shows_progress_then_the_transcript(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    fake.progress = (0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.99, 1.0)
    clk = clock()
    note_id = await queue(db, clk, claimed_ms=45_000)
    assert await pump(db, registry, clk) == ["done"]

    messages = [r for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    placeholder = messages[0]
    assert placeholder.ref == service.reply_ref(note_id) and placeholder.relation is None
    assert placeholder.content["m.relates_to"]["rel_type"] == "m.thread"  # in the voice message's thread
    assert all(m.relation == "m.replace" and m.relates_to_outbox_id == placeholder.id for m in messages[1:])
    assert _bodies(messages) == [
        text("voice.progress.reply", "zh", percent=0, seconds="45"),
        text("voice.progress.reply", "zh", percent=25, seconds="45"),
        text("voice.progress.reply", "zh", percent=50, seconds="45"),
        text("voice.progress.reply", "zh", percent=75, seconds="45"),
        messages[-1].content["m.new_content"]["body"],
    ]
    assert "转写中 25%" in _bodies(messages)[1]
    assert fake.text in _bodies(messages)[-1] and "转写中" not in _bodies(messages)[-1]
    keys = [r.content["m.relates_to"]["key"] for r in await outbox_rows(db) if r.event_type == "m.reaction"]
    assert keys == ["✅"]


async def test_short_message_has_no_progress(db: Database, fake: FakeTranscriber, registry: TimerRegistry) -> None:
    fake.progress = (0.25, 0.5, 0.75)
    clk = clock()
    await queue(db, clk, claimed_ms=int(service.PROGRESS_MIN_SECONDS * 1000) - 1)
    await pump(db, registry, clk)
    messages = [r for r in await outbox_rows(db) if r.event_type == "m.room.message"]
    assert len(messages) == 1 and fake.text in messages[0].content["body"]


async def test_bot_placeholder_is_reused_and_a_rerun_answers_once(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    from records import outbox

    clk = clock()
    note_id = await queue(db, clk, claimed_ms=40_000)
    async with db.transaction() as s:  # what the bot's handler posts on receipt
        body = text("voice.progress.reply", "zh", percent=0, seconds="40")
        await outbox.enqueue(s, outbox.text_content(body), room_id=ROOM, ref=service.reply_ref(note_id))

    # The first run is killed after reporting 50%: its progress is written, no answer.
    fake.progress = (0.25, 0.5)
    fake.gate = threading.Event()
    ids = await claim_due(db, clk)
    job = asyncio.create_task(run_timer(db, ids[0], registry, clk))
    assert await asyncio.to_thread(fake.entered.wait, 30)
    for _ in range(1000):  # the edits are written by the event loop while the engine waits
        if len(_bodies(await outbox_rows(db))) == 3:
            break
        await asyncio.sleep(0.02)
    job.cancel()
    fake.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert [b.split("（")[0] for b in _bodies(await outbox_rows(db))] == ["🎙️ 转写中 0%", "🎙️ 转写中 25%", "🎙️ 转写中 50%"]

    # The claim lapses, another worker runs the job to the end; a third delivery says nothing.
    fake.gate, fake.progress = None, (0.8,)
    clk.advance(CLAIM_LEASE + timedelta(seconds=1))
    assert await pump(db, registry, clk) == ["done"]
    async with db.reading() as s:
        timer = await s.scalar(select(Timer).where(Timer.key == service.timer_key(note_id)))
    assert timer is not None and await jobs.fire_transcribe(db, timer, clk) is None

    rows = await outbox_rows(db)
    messages = [r for r in rows if r.event_type == "m.room.message"]
    assert sum(m.relation is None for m in messages) == 1  # one placeholder, never a second reply
    bodies = _bodies(rows)
    assert "转写中 75%" in bodies[-2] and sum(fake.text in b for b in bodies) == 1 and fake.text in bodies[-1]
    assert [r.content["m.relates_to"]["key"] for r in rows if r.event_type == "m.reaction"] == ["✅"]
    assert len(fake.calls) == 2


# -- names for the glossary ---------------------------------------------------------------
def test_job_options_carry_places_and_the_config_glossary() -> None:
    from records.config import VoiceSettings

    voice = VoiceSettings(
        max_bytes=1_000_000, max_seconds=120, glossary=["三防办", " 东湖泵站 "], memory_confirmations=3
    )
    job = jobs.job_options(voice, places=["三楼会议室", "301", "三防办"])
    assert job["names"] == ["三楼会议室", "301", "三防办", "东湖泵站"]
    assert job["options"]["extra_terms"] == ["三防办", " 东湖泵站 "]
    assert job["memory_confirmations"] == 3


async def test_roster_and_configured_names_correct_the_transcript(
    db: Database, fake: FakeTranscriber, registry: TimerRegistry
) -> None:
    from records.models import Person

    clk = clock()
    async with db.transaction() as s:
        s.add(Person(user_id="@zhang:localhost", display_name="张卫东", created_at=clk.now()))
        s.add(Person(user_id="@li:localhost", display_name="李秀英", created_at=clk.now()))
        s.add(Person(user_id="@nameless:localhost", display_name=None, created_at=clk.now()))
    job = {"options": {"max_seconds": 60}, "names": ["三楼会议室"]}
    # What the model wrote: the names spelt with sound-alike characters.
    fake.text = "请张卫冬和李秀鹰到三楼会以室。"
    note_id = await queue(db, clk, job=job)
    await pump(db, registry, clk)
    assert fake.prompts == [None]  # measured: a prompt of names makes Whisper worse
    async with db.reading() as s:
        note = await s.get(VoiceNote, note_id)
        assert note is not None
        # The roster's names and the configured place are the glossary of the correction pass.
        assert note.text == "请张卫东和李秀英到三楼会议室。"
