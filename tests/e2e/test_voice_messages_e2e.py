"""Voice messages through a real Synapse: ⏳, the worker's timer, the threaded transcript and ✅.

The timer runs in-process (``bot.pump_timers()``) with the real Whisper model, as a worker would.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import BotHandle, MakeBot
from tests.support.chat_user import Received
from tests.support.fixtures import MakeUser
from tests.support.voice_samples import SHARED_VOICE

pytestmark = pytest.mark.e2e

VOICE = SHARED_VOICE


@pytest.fixture
def model_ready() -> None:
    """The weights are installed with the voice extra: assemble the model, never skip."""
    from voice.model import ensure_model

    ensure_model(None)


def reaction_to(event_id: str, key: str, sender: str):  # type: ignore[no-untyped-def]
    def match(item: Received) -> bool:
        rel: dict[str, Any] = item.content.get("m.relates_to") or {}
        return (
            item.type == "m.reaction"
            and item.sender == sender
            and rel.get("event_id") == event_id
            and rel.get("key") == key
        )

    return match


def in_thread_of(event_id: str, sender: str, contains: str):  # type: ignore[no-untyped-def]
    def match(item: Received) -> bool:
        rel: dict[str, Any] = item.content.get("m.relates_to") or {}
        return (
            item.type == "m.room.message"
            and item.sender == sender
            and rel.get("rel_type") == "m.thread"
            and rel.get("event_id") == event_id
            and contains in (item.body or "")
        )

    return match


async def _transcribed(alice: Any, bot: BotHandle, room: str, audio: bytes, duration_ms: int) -> tuple[str, Received]:
    """Send a voice message, see ⏳, run the worker's timer, and return the threaded answer."""
    mark = alice.mark()
    voice_event = await alice.send_voice(room, audio, duration_ms)
    await alice.wait_for(reaction_to(voice_event, "⏳", bot.user_id), since=mark)
    assert await bot.pump_timers() >= 1
    answer = await alice.wait_for(in_thread_of(voice_event, bot.user_id, ""), since=mark)
    return voice_event, answer


async def test_voice_message_gets_a_threaded_transcript_and_refusals_are_explained(
    make_bot: MakeBot, make_user: MakeUser, model_ready: None
) -> None:
    bot = await make_bot(voice={"max_bytes": 40_000})
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id])
    await bob.join(room)
    await alice.wait_for_member(room, bot.user_id)

    # A real voice message: ⏳, then the transcript in its thread, then ✅.
    flood = (VOICE / "zh_tts_flood.ogg").read_bytes()
    voice_event, answer = await _transcribed(alice, bot, room, flood, 4000)
    assert "防汛" in (answer.body or "") and "语音转写（中文" in (answer.body or "")
    assert answer.content["m.relates_to"]["m.in_reply_to"] == {"event_id": voice_event}
    await alice.wait_for(reaction_to(voice_event, "✅", bot.user_id), since=0)

    # A corrupt file: ⚠️ and the reason, never silence; the worker goes on.
    broken_event, broken = await _transcribed(alice, bot, room, b"OggS" + b"\x01not really ogg" * 300, 3000)
    assert "转写失败" in (broken.body or "") and "无法识别这段音频" in (broken.body or "")
    await alice.wait_for(reaction_to(broken_event, "⚠️", bot.user_id), since=0)

    # Over the size limit: refused from the declared size, before any download or job.
    mark = alice.mark()
    big_event = await alice.send_voice(room, (VOICE / "zh_tts_long.ogg").read_bytes(), 50_000)
    refusal = await alice.wait_for(in_thread_of(big_event, bot.user_id, "太大"), since=mark)
    assert "（0.1 MB），上限为 0.038147 MB" in (refusal.body or "")
    assert await bot.pump_timers() == 0  # nothing was queued

    # Someone outside the office (here: the voice allow-list is the join policy) is refused.
    bot.settings.matrix.allowed_servers = ["elsewhere.example"]
    bot.settings.matrix.allowed_users = [alice.user_id]
    mark = bob.mark()
    bob_event = await bob.send_voice(room, flood, 4000)
    await bob.wait_for(in_thread_of(bob_event, bot.user_id, "未获授权"), since=mark)
    assert await bot.pump_timers() == 0

    # The transcript is searchable.
    mark = alice.mark()
    await alice.send_text(room, "!搜索 防汛")
    found = await alice.wait_for_message(room, sender=bot.user_id, contains="搜索结果", since=mark)
    assert "V1" in (found.body or "") and "防汛" in (found.body or "")


async def test_voice_message_in_an_encrypted_room(make_bot: MakeBot, make_user: MakeUser, model_ready: None) -> None:
    bot = await make_bot(e2ee=True)
    alice = await make_user("alice", e2e=True)
    room = await alice.create_room(invite=[bot.user_id], encrypted=True)
    await alice.wait_for_member(room, bot.user_id)
    voice_event, answer = await _transcribed(alice, bot, room, (VOICE / "zh_tts_flood.ogg").read_bytes(), 4000)
    assert answer.encrypted and "防汛" in (answer.body or "")
    # The audio really went up encrypted, and the bot decrypted it before transcribing.
    sent = await alice.wait_for_event(voice_event)
    assert sent.encrypted and "file" in sent.content and "url" not in sent.content
    await alice.wait_for(reaction_to(voice_event, "✅", bot.user_id), since=0)
