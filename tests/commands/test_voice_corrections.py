"""People correct transcripts, and the office's correction memory learns, through the real dispatcher.

A note is transcribed by the worker's timer (a stand-in engine that mishears two place names),
then corrected in chat: by a reply with the right text or by `!更正`, by the speaker or an
admin, never by anyone else. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

import commands.voice.jobs as jobs
from bot.types import Message
from commands.plugin import TranscribedNote, VoiceFiler
from commands.voice import corrections, learnt, service
from commands.voice.handlers.glossary import MEMORY_LINES
from commands.voice.models import VoiceCorrection, VoiceMemory, VoiceNote
from records.clock import Clock, SystemClock
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from records.timers import TimerRegistry, claim_due, run_timer
from tests.commands.test_voice_flow import FakeTranscriber
from tests.support.dispatch_chat import DispatchChat
from tests.support.office_chat import BOSS, LI, ROOM, office_chat

AUDIO = (Path(__file__).resolve().parents[2] / "bench/voice_dev/dev01.ogg").read_bytes()
SPEAKER = "@wang:localhost"
HEARD = "青石乔村的转移名单今晚报上来，明早在白沙弯小学集合。"
SAID = "青石桥村的转移名单今晚报上来，明早在白沙湾小学集合。"
_events = itertools.count(1)


@pytest.fixture
def fake() -> Iterator[FakeTranscriber]:
    engine = FakeTranscriber(HEARD)
    jobs.use_transcriber(engine)
    yield engine
    jobs.use_transcriber(None)


def registry(filers: tuple[VoiceFiler, ...] = ()) -> TimerRegistry:
    reg = TimerRegistry()
    jobs.register(reg, filers)
    return reg


async def transcribe(chat: DispatchChat, reg: TimerRegistry, *, sender: str = SPEAKER, confirmations: int = 2) -> int:
    """A voice message of `sender` in the office room, transcribed by the worker's timer; the
    bot's answers are marked sent (event ids), as the relay does."""
    async with chat.db.transaction() as s:
        note = await service.queue_note(
            s,
            room_id=ROOM,
            event_id=f"$voice{next(_events)}",
            thread_root=None,
            sender=sender,
            audio_url="mxc://localhost/abc",
            audio=AUDIO,
            clock=chat.clock,
            mimetype="audio/ogg",
            claimed_ms=3000,
            job={"options": {"max_seconds": 60}, "memory_confirmations": confirmations},
        )
        note_id = note.id
    for timer_id in await claim_due(chat.db, chat.clock):
        await run_timer(chat.db, timer_id, reg, chat.clock)
    async with chat.db.transaction() as s:
        for row in await s.scalars(select(OutboxMessage).where(OutboxMessage.event_id.is_(None))):
            row.event_id = f"$out{row.id}"
    return note_id


async def note_of(db: Database, note_id: int) -> VoiceNote:
    async with db.reading() as s:
        note = await s.get(VoiceNote, note_id)
        assert note is not None
        return note


async def transcript_event(db: Database, note_id: int) -> str:
    async with db.reading() as s:
        row = await s.scalar(
            select(OutboxMessage).where(
                OutboxMessage.ref == service.reply_ref(note_id), OutboxMessage.relation.is_(None)
            )
        )
        assert row is not None and row.event_id
        return row.event_id


async def reply(chat: DispatchChat, sender: str, to: str, body: str) -> list[OutboxMessage]:
    n = next(_events)
    message = Message(room_id=ROOM, event_id=f"$reply{n}", sender=sender, timestamp_ms=n, source={}, body=body)
    message.reply_to = to
    return await chat._feed(message)


def bodies(rows: list[OutboxMessage]) -> list[str]:
    return [str(r.content.get("body", "")) for r in rows]


async def test_the_speaker_corrects_by_replying_to_the_transcript(db: Database, fake: FakeTranscriber) -> None:
    chat = office_chat(db)
    note_id = await transcribe(chat, registry())
    sent = await reply(chat, SPEAKER, await transcript_event(db, note_id), SAID)

    note = await note_of(db, note_id)
    assert (note.text, note.original_text) == (SAID, HEARD)
    edits = [r for r in sent if r.relation == "m.replace"]
    assert len(edits) == 1 and SAID in str(edits[0].content["m.new_content"]["body"])
    assert "已人工更正" in str(edits[0].content["m.new_content"]["body"])
    answer = [b for r, b in zip(sent, bodies(sent), strict=True) if r.relation != "m.replace"]
    assert answer == [f"✏️ 已更正 V{note_id} 的转写。已记下：青石乔 → 青石桥、白沙弯 → 白沙湾。"]
    async with db.reading() as s:
        entry = await s.scalar(select(AuditEntry).where(AuditEntry.action == "voice.correct"))
        assert entry is not None and entry.actor == SPEAKER and entry.subject == f"V{note_id}"
        assert entry.data["before"] == HEARD and entry.data["after"] == SAID
        history = list(await s.scalars(select(VoiceCorrection)))
        assert [(c.before, c.after, c.corrector) for c in history] == [(HEARD, SAID, SPEAKER)]
    # The corrected words are what search finds now.
    assert " 集合 " in (note.tokens or "") and "白沙湾" in (note.tokens or "")


async def test_a_command_in_reply_to_the_voice_message_corrects_too(db: Database, fake: FakeTranscriber) -> None:
    chat = office_chat(db)
    note_id = await transcribe(chat, registry())
    note = await note_of(db, note_id)
    await reply(chat, SPEAKER, note.event_id, f"!更正 {SAID}")
    assert (await note_of(db, note_id)).text == SAID


async def test_someone_else_is_refused_and_a_plain_reply_of_theirs_is_conversation(
    db: Database, fake: FakeTranscriber
) -> None:
    chat = office_chat(db)
    note_id = await transcribe(chat, registry())
    transcript = await transcript_event(db, note_id)
    refused = bodies(await reply(chat, LI, transcript, f"!更正 {SAID}"))
    assert refused == [f"⚠️ 只有说话人本人或管理员可以更正 V{note_id} 的转写。"]
    assert "用法" not in refused[0]
    # The same words as a plain reply from someone else: not a correction, no refusal either.
    assert all("更正" not in b for b in bodies(await reply(chat, LI, transcript, SAID)))
    # The speaker answering a question in reply is conversation too.
    await reply(chat, SPEAKER, transcript, "收到，马上去")
    note = await note_of(db, note_id)
    assert (note.text, note.original_text) == (HEARD, None)
    async with db.reading() as s:
        assert await s.scalar(select(AuditEntry).where(AuditEntry.action == "voice.correct")) is None


async def test_the_memory_is_used_after_two_confirmations(db: Database, fake: FakeTranscriber) -> None:
    chat = office_chat(db)
    reg = registry()
    first = await transcribe(chat, reg)
    await reply(chat, SPEAKER, await transcript_event(db, first), SAID)
    # One confirmation: learnt, not yet in force; the next transcript still says what was heard.
    second = await transcribe(chat, reg, sender=LI)
    assert (await note_of(db, second)).text == HEARD
    await reply(chat, LI, await transcript_event(db, second), SAID)
    async with db.reading() as s:
        counts = {(m.heard, m.right): m.count for m in await s.scalars(select(VoiceMemory))}
    assert counts == {("青石乔", "青石桥"): 2, ("白沙弯", "白沙湾"): 2}
    # Two people confirmed it: the third transcript comes out right.
    third = await transcribe(chat, reg)
    assert (await note_of(db, third)).text == SAID
    # A stricter office (three confirmations) is not there yet.
    fourth = await transcribe(chat, reg, confirmations=3)
    assert (await note_of(db, fourth)).text == HEARD


async def test_one_person_correcting_again_and_again_is_one_confirmation(db: Database, fake: FakeTranscriber) -> None:
    # Three corrections of the same mishearing by the same speaker are one person's opinion: an
    # office that asks for three confirmations means three people.
    chat = office_chat(db)
    reg = registry()
    for _ in range(3):
        note_id = await transcribe(chat, reg, confirmations=3)
        assert (await note_of(db, note_id)).text == HEARD
        await reply(chat, SPEAKER, await transcript_event(db, note_id), SAID)
    async with db.reading() as s:
        counts = {(m.heard, m.right): m.count for m in await s.scalars(select(VoiceMemory))}
    assert counts == {("青石乔", "青石桥"): 1, ("白沙弯", "白沙湾"): 1}
    assert (await note_of(db, await transcribe(chat, reg, confirmations=2))).text == HEARD
    # A second person confirms it: in force at two, not yet at three.
    second = await transcribe(chat, reg, sender=LI, confirmations=3)
    await reply(chat, LI, await transcript_event(db, second), SAID)
    assert (await note_of(db, await transcribe(chat, reg, confirmations=2))).text == SAID
    assert (await note_of(db, await transcribe(chat, reg, confirmations=3))).text == HEARD


async def test_a_legacy_count_without_confirmers_does_not_pass_for_a_second_person(db: Database) -> None:
    # Pairs learnt before confirmers were recorded carry count 1 with nobody behind it: their
    # corrector confirming again is still one person, and the pair stays out of force at two.
    clock = SystemClock()
    pair = learnt.Pair("青石乔", "青石桥")
    async with db.transaction() as s:
        s.add(VoiceMemory(heard=pair.heard, right=pair.right, count=1, created_at=clock.now(), updated_at=clock.now()))
    async with db.transaction() as s:
        await learnt.count(s, pair, corrector=LI, by_admin=False, clock=clock)
    async with db.transaction() as s:
        assert not (await learnt.memory_in_force(s, 2)).pairs
        await learnt.count(s, pair, corrector=BOSS, by_admin=False, clock=clock)
    async with db.reading() as s:
        memory = await learnt.memory_in_force(s, 2)
    assert memory.pairs == (learnt.Pair("青石乔", "青石桥", by_sound=True),)


async def test_an_admins_pair_fixes_its_own_spelling_not_every_homophone(db: Database) -> None:
    clock = SystemClock()
    async with db.transaction() as s:
        await learnt.count(s, learnt.Pair("线防指", "县防指"), corrector=BOSS, by_admin=True, clock=clock)
    async with db.reading() as s:
        memory = await learnt.memory_in_force(s, 2)
    assert memory.apply("线防指的通知收到了") == "县防指的通知收到了"
    assert memory.apply("明天上午现防纸开会") == "明天上午现防纸开会"


async def test_an_admins_correction_is_in_force_at_once(db: Database, fake: FakeTranscriber) -> None:
    chat = office_chat(db, roles={"admin": [BOSS]})
    reg = registry()
    first = await transcribe(chat, reg)
    await reply(chat, BOSS, await transcript_event(db, first), SAID)
    assert (await note_of(db, first)).text == SAID
    second = await transcribe(chat, reg)
    assert (await note_of(db, second)).text == SAID


async def test_the_filed_copy_follows_the_correction(db: Database, fake: FakeTranscriber) -> None:
    filed: dict[str, str] = {}

    async def file(session: AsyncSession, note: TranscribedNote, clock: Clock) -> str | None:
        filed[note.event_id] = f"🎙️ {note.text}"
        return "minutes:M1"

    async def amend(session: AsyncSession, note: TranscribedNote, before: str, clock: Clock) -> bool:
        assert filed[note.event_id] == f"🎙️ {before}"
        filed[note.event_id] = f"🎙️ {note.text}"
        return True

    chat = office_chat(db)
    filers = (VoiceFiler(file, amend=amend),)
    note_id = await transcribe(chat, registry(filers))
    async with db.transaction() as s:
        note = await s.get(VoiceNote, note_id)
        assert note is not None
        await corrections.correct_note(
            s, note, corrector=SPEAKER, text=SAID, is_admin=False, clock=chat.clock, filers=filers
        )
    assert list(filed.values()) == [f"🎙️ {SAID}"]
    edit = (await _edits(db, note_id))[-1]
    assert "已记入 M1 会议纪要" in str(edit.content["m.new_content"]["body"])


async def test_glossary_is_shown_to_the_office_and_edited_by_admins(db: Database) -> None:
    chat = office_chat(db, roles={"admin": [BOSS]})
    assert await chat.reply_to(LI, "!词表 加 青石桥村") == "⚠️ 只有管理员可以修改词表和更正记忆。"
    assert await chat.reply_to(LI, "!词表 忘记 蓄暴") == "⚠️ 只有管理员可以修改词表和更正记忆。"
    assert await chat.reply_to(BOSS, "!词表 加 青石桥村") == "✅ 已将“青石桥村”加入词表。"
    assert await chat.reply_to(BOSS, "!词表 删 首报") == "✅ 已将“首报”从词表删除。"
    assert await chat.reply_to(BOSS, "!词表 删 首报") == "⚠️ 词表中没有“首报”。"
    async with db.transaction() as s:
        await learnt.count(s, learnt.Pair("蓄暴", "续报"), corrector=LI, by_admin=False, clock=chat.clock)
    shown = await chat.reply_to(LI, "!词表")
    assert "青石桥村" in shown and "本单位添加：青石桥村" in shown and "本单位删除：首报" in shown
    # The memory's pairs come from transcripts in any room, so only an admin reads them.
    assert "蓄暴" not in shown and "→" not in shown
    assert "🧠 更正记忆：1 条，明细仅管理员可见。" in shown
    assert "蓄暴 → 续报（1 人确认，待确认）" in await chat.reply_to(BOSS, "!词表", dm=True)
    assert await chat.reply_to(BOSS, "!词表 忘记 蓄暴") == "✅ 已忘记：蓄暴 → 续报。"
    assert "更正记忆：暂无。" in await chat.reply_to(LI, "!词表")
    async with db.reading() as s:
        actions = [e.action for e in await s.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions == ["voice.glossary.add", "voice.glossary.remove", "voice.memory.forget"]


async def test_an_admin_asking_in_a_shared_room_gets_the_memory_in_a_dm(db: Database) -> None:
    # The memory's pairs are spans of transcripts from any room: an admin asking in a shared room
    # must not post them all there. The room gets the count; the admin's DM the list, capped.
    chat = office_chat(db, roles={"admin": [BOSS]})
    heard = [f"{a}{b}" for a in "甲乙丙丁戊己庚辛壬癸" for b in "子丑寅卯辰巳午未申酉戌亥亓"]  # 130
    async with db.transaction() as s:
        for word in heard:
            await learnt.count(s, learnt.Pair(word, "续报"), corrector=LI, by_admin=False, clock=chat.clock)
    sent = await chat.say(BOSS, "!词表")
    in_room = [str(r.content["body"]) for r in sent if r.room_id == ROOM]
    to_admin = [str(r.content["body"]) for r in sent if r.to_user == BOSS]
    assert len(in_room) == 1 and "→" not in in_room[0]
    assert "🧠 更正记忆：130 条，明细已私信发给你。" in in_room[0]
    assert len(to_admin) == 1
    pairs = [line for line in to_admin[0].splitlines() if "→" in line]
    assert len(pairs) == MEMORY_LINES and pairs[0].startswith("丁丑 → 续报")
    assert to_admin[0].endswith(f"……另有 {130 - MEMORY_LINES} 条未列出，可用“!词表 忘记 <误听>”删除。")
    # Asked in the DM itself: the same capped list, answered there.
    answer = await chat.reply_to(BOSS, "!词表", room="!dm-boss:localhost", dm=True)
    assert [line for line in answer.splitlines() if "→" in line] == pairs
    # In English too.
    await chat.say(BOSS, "!lang en")
    sent = await chat.say(BOSS, "!glossary")
    in_room = [str(r.content["body"]) for r in sent if r.room_id == ROOM]
    assert "Correction memory: 130; the full list is sent to you in a direct message." in in_room[0]
    to_admin = [str(r.content["body"]) for r in sent if r.to_user == BOSS]
    assert to_admin[0].endswith(f"… and {130 - MEMORY_LINES} more; !glossary forget <misheard> removes one.")


async def test_an_added_term_is_protected_and_a_removed_one_no_longer_corrects(
    db: Database, fake: FakeTranscriber
) -> None:
    chat = office_chat(db, roles={"admin": [BOSS]})
    fake.text = "今天的续报什么时候发"
    await chat.reply_to(BOSS, "!词表 加 蓄暴")  # an odd word, but the office's own now
    note_id = await transcribe(chat, registry())
    await reply(chat, BOSS, await transcript_event(db, note_id), "今天的蓄暴什么时候发")
    async with db.reading() as s:
        assert list(await s.scalars(select(VoiceMemory))) == []  # a glossary term is never "misheard"
    # The shipped term 首报 corrects 手报 in every transcript, until the office removes it.
    fake.text = "请尽快发送手报"
    assert (await note_of(db, await transcribe(chat, registry()))).text == "请尽快发送首报"
    await chat.reply_to(BOSS, "!词表 删 首报")
    assert (await note_of(db, await transcribe(chat, registry()))).text == "请尽快发送手报"


async def _edits(db: Database, note_id: int) -> list[OutboxMessage]:
    """The m.replace edits of the note's transcript reply."""
    async with db.reading() as s:
        original = await s.scalar(
            select(OutboxMessage.id).where(
                OutboxMessage.ref == service.reply_ref(note_id), OutboxMessage.relation.is_(None)
            )
        )
        rows = await s.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.relation == "m.replace", OutboxMessage.relates_to_outbox_id == original)
            .order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_a_progress_note_filed_from_a_task_card_follows_the_correction(
    db: Database, fake: FakeTranscriber
) -> None:
    from datetime import timedelta

    from commands.tasks import service as tasks
    from commands.tasks.models import TaskNote
    from records import outbox
    from zhiban.features import VOICE_FILERS

    chat = office_chat(db)
    async with db.transaction() as s:
        task = await tasks.create_task(
            s,
            assigner=BOSS,
            lead=SPEAKER,
            title="转移名单",
            due_at=chat.clock.now() + timedelta(days=1),
            clock=chat.clock,
        )
        card = await outbox.enqueue(s, outbox.text_content("📌 card"), room_id=ROOM, ref=tasks.card_ref(task.id))
        card.event_id = "$card"  # as the relay records it once sent
        task_id = task.id
    async with db.transaction() as s:
        note = await service.queue_note(
            s,
            room_id=ROOM,
            event_id="$voice-task",
            thread_root="$card",
            sender=SPEAKER,
            audio_url="mxc://localhost/abc",
            audio=AUDIO,
            clock=chat.clock,
            job={"options": {"max_seconds": 60}},
        )
        note_id = note.id
    reg = registry(VOICE_FILERS)
    for timer_id in await claim_due(db, chat.clock):
        await run_timer(db, timer_id, reg, chat.clock)
    assert (await note_of(db, note_id)).filed_to == f"progress:T{task_id}"
    async with db.transaction() as s:
        filed = await s.get(VoiceNote, note_id)
        assert filed is not None
        await corrections.correct_note(
            s, filed, corrector=SPEAKER, text=SAID, is_admin=False, clock=chat.clock, filers=VOICE_FILERS
        )
    async with db.reading() as s:
        texts = list(
            await s.scalars(select(TaskNote.text).where(TaskNote.task_id == task_id, TaskNote.kind == "progress"))
        )
    assert texts == [f"🎙️ {SAID}"]


async def test_a_line_of_the_minutes_follows_the_correction(db: Database) -> None:
    from dataclasses import dataclass
    from datetime import timedelta

    from commands.meetings import minutes
    from commands.meetings import service as meetings
    from commands.meetings.models import MinuteLine
    from commands.meetings.policy import MeetingPolicy
    from commands.meetings.voice import amend_minutes

    @dataclass
    class Heard:
        """The fields of a voice note the minutes' filer reads."""

        event_id: str
        text: str

    chat = office_chat(db)
    async with db.transaction() as s:
        meeting = await meetings.create_meeting(
            s,
            organizer=BOSS,
            title="防汛会商",
            starts_at=chat.clock.now() + timedelta(minutes=5),
            place=None,
            attendees=[SPEAKER],
            room_id=ROOM,
            policy=MeetingPolicy(),
            clock=chat.clock,
        )
        await minutes.add_minute(
            s, meeting.id, SPEAKER, f"🎙️ {HEARD}", clock=chat.clock, source="voice", event_id="$said"
        )
        await minutes.add_minute(s, meeting.id, SPEAKER, HEARD, clock=chat.clock, event_id="$typed")
    async with db.transaction() as s:
        assert await amend_minutes(s, Heard("$said", SAID), HEARD, chat.clock)  # type: ignore[arg-type]
        assert not await amend_minutes(s, Heard("$typed", SAID), HEARD, chat.clock)  # type: ignore[arg-type]
    async with db.reading() as s:
        lines = list(await s.scalars(select(MinuteLine.text).order_by(MinuteLine.id)))
    assert lines == [f"🎙️ {SAID}", HEARD]  # a typed line is the author's own words: never touched


async def test_a_huge_reply_from_the_speaker_is_conversation_not_a_correction(
    db: Database, fake: FakeTranscriber
) -> None:
    # 10,000 characters in reply to a transcript: no correction, and no quadratic diff on it.
    chat = office_chat(db)
    note_id = await transcribe(chat, registry())
    await reply(chat, SPEAKER, await transcript_event(db, note_id), SAID + "的" * 10_000)
    note = await note_of(db, note_id)
    assert (note.text, note.original_text) == (HEARD, None)
