"""Correcting a transcript through a real Synapse: the speaker replies with the right text.

A voice message is transcribed (the timer runs in this process with a stand-in engine that
mishears two place names, as a worker would); the speaker replies to the bot's threaded
transcript with what they said. The bot edits that transcript in place (an m.replace the
homeserver keeps), the record's text is replaced with the original kept, and the change is in
the audit trail. The same words from someone else are conversation and change nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

import commands.voice.jobs as jobs
from commands.voice.models import VoiceNote
from records.db import Database
from records.models import AuditEntry
from tests.commands.test_voice_flow import FakeTranscriber
from tests.e2e.conftest import BotHandle, MakeBot
from tests.e2e.test_voice_fetch_e2e import history
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e

AUDIO = (Path(__file__).resolve().parents[2] / "bench/voice_dev/dev01.ogg").read_bytes()
HEARD = "青石乔村的转移名单今晚报上来，明早在白沙弯小学集合。"
SAID = "青石桥村的转移名单今晚报上来，明早在白沙湾小学集合。"


@pytest.fixture
def engine() -> Iterator[FakeTranscriber]:
    stand_in = FakeTranscriber(HEARD)
    jobs.use_transcriber(stand_in)
    yield stand_in
    jobs.use_transcriber(None)


async def _note(bot: BotHandle, event_id: str) -> tuple[VoiceNote, list[AuditEntry]]:
    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            note = await session.scalar(select(VoiceNote).where(VoiceNote.event_id == event_id))
            assert note is not None
            entries = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "voice.correct")))
            return note, entries
    finally:
        await db.dispose()


async def test_the_speaker_replies_with_the_right_text_and_the_transcript_is_corrected(
    make_bot: MakeBot, make_user: MakeUser, engine: FakeTranscriber
) -> None:
    zhiban = await make_bot(e2ee=False)
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[zhiban.user_id, bob.user_id])
    await bob.join(room)
    await alice.wait_for_member(room, zhiban.user_id)

    voice_event = await alice.send_voice(room, AUDIO, 4000)
    for _ in range(600):  # the relay fetches the audio, then the job is due (a guard, not a speed check)
        if await zhiban.pump_timers() == 1:
            break
        await asyncio.sleep(0.1)
    transcript = await alice.wait_for_message(room, sender=zhiban.user_id, contains="白沙弯", timeout=60)

    # Someone else's reply with the same words is conversation: nothing is corrected.
    await bob.send_text(room, SAID, thread_root=voice_event, reply_to=transcript.event_id)
    await alice.send_text(room, SAID, thread_root=voice_event, reply_to=transcript.event_id)
    done = await alice.wait_for_message(room, sender=zhiban.user_id, contains="已更正", timeout=60)
    assert "青石乔 → 青石桥" in (done.body or "")

    events = await history(alice, room)
    edits = [
        e
        for e in events
        if e.get("sender") == zhiban.user_id
        and (e.get("content", {}).get("m.relates_to") or {}).get("rel_type") == "m.replace"
        and e["content"]["m.relates_to"].get("event_id") == transcript.event_id
    ]
    assert len(edits) == 1
    shown = edits[0]["content"]["m.new_content"]["body"]
    assert SAID in shown and "已人工更正" in shown and HEARD not in shown

    note, audit = await _note(zhiban, voice_event)
    assert (note.text, note.original_text) == (SAID, HEARD)
    assert len(audit) == 1 and audit[0].actor == alice.user_id and audit[0].subject == note.code
