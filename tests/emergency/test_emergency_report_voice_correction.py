"""A report field filled from a voice message follows a later correction of its transcript.

The reporter speaks the place and the impact, uses the transcript (采用), then notices a
mishearing and corrects the transcript (!更正 in reply to it) before the report is filed: the
filed report says what was corrected, not what was misheard. A field the reporter typed over
stays as typed. Runs on SQLite and PostgreSQL with the real dispatcher (a stand-in engine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.types import Media, Message
from records.clock import FrozenClock
from records.db import Database
from tests.emergency.test_emergency_chat import INCIDENT_ROOM, OFFICER, T0, Chat, VoiceClient, _ids, _open_incident
from voice.engine import Segment, Transcript

AUDIO = Path(__file__).resolve().parents[2] / "bench/voice_dev/dev01.ogg"
HEARD = "地点：城东区和平路 影响：道路中断，两辆车被困"
SAID = "地点：城东区和平路 影响：道路中断，三辆车被困"


class Heard:
    name = "fake"

    def transcribe(self, audio: Any, **_: Any) -> Transcript:
        return Transcript(HEARD, "zh", 4.0, (Segment(0.0, 4.0, HEARD),), self.name)


async def _spoken_and_used(chat: Chat) -> str:
    """The officer's voice message, transcribed and used; the transcript's event id."""
    voice = Message(
        room_id=INCIDENT_ROOM, event_id=f"$voice{next(_ids)}", sender=OFFICER, timestamp_ms=next(_ids), source={},
        body="语音消息.ogg", msgtype="m.audio", is_voice=True,
        media=Media(url="mxc://localhost/voice", mimetype="audio/ogg", size=AUDIO.stat().st_size, duration_ms=4300),
    )  # fmt: skip
    await chat._feed(voice)
    transcribed = await chat.pump()
    transcript = next(r for r in transcribed if (r.ref or "").startswith("voice:V") and r.content.get("body"))
    used = await chat.reply_to(OFFICER, "采用", INCIDENT_ROOM)
    assert used.startswith("✅ 已采用语音填入：事发地点、影响范围"), used
    return transcript.event_id or ""


async def _correct(chat: Chat, transcript: str, text: str) -> None:
    n = next(_ids)
    message = Message(
        room_id=INCIDENT_ROOM, event_id=f"$fix{n}", sender=OFFICER, timestamp_ms=n, source={}, body=f"!更正 {text}"
    )
    message.reply_to = transcript
    await chat._feed(message)


async def _skip_to_filed(chat: Chat) -> str:
    for _ in range(10):
        body = await chat.reply_to(OFFICER, "跳过", INCIDENT_ROOM)
        if body.startswith("📄"):
            return body
    raise AssertionError("the report was never filed")


async def test_a_correction_before_filing_corrects_the_draft(db: Database) -> None:
    import commands.voice.jobs as voice_jobs

    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    chat.dispatcher.context["client"] = VoiceClient(AUDIO.read_bytes())
    await _open_incident(db, clock)
    assert "【" in await chat.reply_to(OFFICER, "!报告 首报", INCIDENT_ROOM)
    voice_jobs.use_transcriber(Heard())
    try:
        transcript = await _spoken_and_used(chat)
    finally:
        voice_jobs.use_transcriber(None)
    await _correct(chat, transcript, SAID)
    filed = await _skip_to_filed(chat)
    assert "三辆车被困" in filed and "两辆车被困" not in filed, filed
    assert "城东区和平路" in filed


async def test_a_correction_after_filing_leaves_the_report_and_a_retyped_field_stays(db: Database) -> None:
    import commands.voice.jobs as voice_jobs

    clock = FrozenClock(T0)
    chat = Chat(db, clock)
    chat.dispatcher.context["client"] = VoiceClient(AUDIO.read_bytes())
    await _open_incident(db, clock)
    assert "【" in await chat.reply_to(OFFICER, "!报告 首报", INCIDENT_ROOM)
    voice_jobs.use_transcriber(Heard())
    try:
        transcript = await _spoken_and_used(chat)
    finally:
        voice_jobs.use_transcriber(None)
    filed = await _skip_to_filed(chat)
    assert "两辆车被困" in filed
    await _correct(chat, transcript, SAID)  # the report was submitted: it stays as filed
    assert "三辆车被困" not in await chat.reply_to(OFFICER, "!报告 续报", INCIDENT_ROOM)
