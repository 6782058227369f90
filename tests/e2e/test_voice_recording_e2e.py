"""A meeting recorded whole, through a real Synapse and real worker processes.

Bob sends a recording (dev clips joined with pauses, about a minute) to the meeting card's
thread; the bot's relay fetches it; a worker (`zhiban worker --config FILE`) transcribes it
chunk by chunk and is SIGKILLed once the first chunk is stored; a second worker goes on from
the next chunk (the first is not done again), the progress message is edited in place, and the
paragraphs land in the minutes with their timestamps. Refusals: someone not invited, a file
over the length cap (nothing recorded), and `!转写` outside a meeting by someone who did not
send the file.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

import commands.voice.recording_jobs as recording_jobs
from bench.voice_recording import make_recording
from commands.voice.recording_models import VoiceRecording, VoiceRecordingChunk
from records.db import Database
from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser, Received
from tests.support.fixtures import MakeUser
from tests.support.processes import kill, spawn_worker, stop, wait_for_marker

pytestmark = pytest.mark.e2e

# The first worker: the job stores its first chunk (committed), then hangs until killed.
HANG_AFTER_FIRST_CHUNK = """
import commands.voice.recording_jobs as _rj
_store = _rj._store_chunk

async def _store_then_hang(*args, **kwargs):
    stored = await _store(*args, **kwargs)
    await hang("chunk stored")
    return stored

_rj._store_chunk = _store_then_hang
"""

# The second worker: notes the start of every chunk it transcribes.
LOG_CHUNKS = """
import json as _json
import commands.voice.recording_jobs as _rj
_transcribe = _rj.transcribe_chunk

def _logged(engine, audio, chunk, **kwargs):
    with open({path!r}, "a") as fh:
        fh.write(_json.dumps(chunk.start) + "\\n")
    return _transcribe(engine, audio, chunk, **kwargs)

_rj.transcribe_chunk = _logged
"""


@pytest.fixture(scope="module")
def recording() -> tuple[bytes, float]:
    from voice.model import ensure_model

    ensure_model(None)  # the weights are installed with the voice extra: assemble, never skip
    data, seconds, _ = make_recording(9)
    return data, seconds


async def _send_file(
    user: ChatUser, room: str, data: bytes, duration_ms: int, *, thread_root: str | None = None
) -> str:
    """An audio file as a client sends a recording (no MSC3245 voice mark); in an encrypted
    room, the file encrypted too."""
    room_state = user.client.rooms.get(room)
    encrypt = bool(user.e2e and room_state is not None and room_state.encrypted)
    mxc, keys = await user.upload(data, mimetype="audio/wav", filename="会议录音.wav", encrypt=encrypt)
    content: dict[str, Any] = {
        "msgtype": "m.audio",
        "body": "会议录音.wav",
        "info": {"mimetype": "audio/wav", "size": len(data), "duration": duration_ms},
    }
    if keys is not None:
        content["file"] = {"url": mxc, **keys}
    else:
        content["url"] = mxc
    if thread_root is not None:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread_root},
        }
    return await user.send(room, "m.room.message", content)


def _edited_to(sender: str, contains: str):  # type: ignore[no-untyped-def]
    def match(item: Received) -> bool:
        new = item.content.get("m.new_content") or {}
        return item.sender == sender and contains in str(new.get("body", ""))

    return match


async def _count(db: Database, model: type[Any]) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_meeting_recording_resumes_after_its_worker_is_killed_and_lands_in_the_minutes(
    make_bot: MakeBot, make_user: MakeUser, recording: tuple[bytes, float], tmp_path: Path
) -> None:
    data, seconds = recording
    bot = await make_bot(e2ee=False, meetings={"places": {"三楼会议室": 10}}, voice={"recording_max_seconds": 300})
    alice, bob, carol = await make_user("alice"), await make_user("bob"), await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, bob.user_id, carol.user_id])
    for user in (bob, carol):
        await user.join(room)
    for member in (bot.user_id, bob.user_id, carol.user_id):
        await alice.wait_for_member(room, member)
    mark = alice.mark()
    await alice.send_text(room, f"!会议 防汛会商 10分钟后 在 三楼会议室 {bob.user_id}")
    created = await alice.wait_for_message(room, sender=bot.user_id, contains="已发起会议", since=mark)
    code = re.search(r"M\d+", created.body or "").group(0)  # type: ignore[union-attr]
    card = await alice.wait_for_message(room, sender=bot.user_id, contains=f"会议通知 {code}", since=mark)
    db = Database(bot.settings.database_url)
    first = second = None
    try:
        # Carol was not invited: she may not add to the minutes, so her file is refused.
        await _send_file(carol, room, data, int(seconds * 1000), thread_root=card.event_id)
        await alice.wait_for_message(room, sender=bot.user_id, contains=f"只有能为 {code} 记纪要", since=mark)
        # Over the length cap (declared 400 s, cap 300 s): refused, nothing recorded.
        await _send_file(alice, room, data, 400_000, thread_root=card.event_id)
        await alice.wait_for_message(room, sender=bot.user_id, contains="超过上限 300 秒", since=mark)
        assert await _count(db, VoiceRecording) == 0

        # Bob's recording: received, fetched by the relay, transcribed by a worker.
        await _send_file(bob, room, data, int(seconds * 1000), thread_root=card.event_id)
        queued = await alice.wait_for_message(room, sender=bot.user_id, contains="已收到录音 R", since=mark)
        rcode = re.search(r"R\d+", queued.body or "").group(0)  # type: ignore[union-attr]
        marker = tmp_path / "first-chunk-stored"
        first_log = tmp_path / "worker-1.log"
        first = spawn_worker(
            bot.config_path, hook=HANG_AFTER_FIRST_CHUNK, marker=marker, cwd=tmp_path, log_path=first_log
        )
        await wait_for_marker(marker, first, log_path=first_log, within=300)
        kill(first)
        async with db.reading() as session:
            stored = list(await session.scalars(select(VoiceRecordingChunk).order_by(VoiceRecordingChunk.seq)))
        done_before = [c.start for c in stored if c.text is not None]
        total = len(stored)
        assert len(done_before) == 1 and total >= 3
        await alice.wait_for(_edited_to(bot.user_id, f"{rcode} 转写中 1/{total} 段"), since=mark, timeout=60)

        chunks_log = tmp_path / "second-chunks.log"
        second = spawn_worker(
            bot.config_path,
            hook=LOG_CHUNKS.format(path=str(chunks_log)),
            cwd=tmp_path,
            log_path=tmp_path / "worker-2.log",
        )
        done = await alice.wait_for(_edited_to(bot.user_id, f"已作为草稿记入 {code} 会议纪要"), since=mark, timeout=600)
        assert done.content["m.relates_to"]["event_id"] == queued.event_id  # the one message, edited
        redone = [json.loads(line) for line in chunks_log.read_text().splitlines()]
        assert len(redone) == total - 1 and done_before[0] not in redone  # the stored chunk is not redone

        # The minutes hold the paragraphs with their timestamps.
        ending = alice.mark()
        await alice.send_text(room, f"!meeting end {code}")
        ended = await alice.wait_for_message(room, sender=bot.user_id, contains="会议纪要", since=ending, timeout=60)
        body = ended.body or ""
        assert re.search(r"\[00:00:0\d\]", body) and len(re.findall(r"\[00:\d\d:\d\d\]", body)) >= 2
        assert "台风" in body
    finally:
        kill(first)
        stop(second)
        await db.dispose()


async def test_transcribe_outside_a_meeting_is_for_the_files_sender_and_a_long_text_comes_as_a_file(
    make_bot: MakeBot, make_user: MakeUser, recording: tuple[bytes, float], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, seconds = recording
    bot = await make_bot(e2ee=False)
    alice, carol = await make_user("alice"), await make_user("carol")
    room = await alice.create_room(invite=[bot.user_id, carol.user_id])
    await carol.join(room)
    for member in (bot.user_id, carol.user_id):
        await alice.wait_for_member(room, member)
    mark = alice.mark()
    await alice.send_text(room, "!转写")
    await alice.wait_for_message(room, sender=bot.user_id, contains="请回复一个音频或视频文件", since=mark)
    file_event = await _send_file(alice, room, data, int(seconds * 1000))
    await carol.send_text(room, "!转写", reply_to=file_event)
    await alice.wait_for_message(room, sender=bot.user_id, contains="只有发送录音的人", since=mark, timeout=60)
    text_event = await alice.send_text(room, "这不是录音")
    await alice.send_text(room, "!转写", reply_to=text_event)
    await alice.wait_for_message(room, sender=bot.user_id, contains="不是音频或视频文件", since=mark, timeout=60)

    # The sender asks: the transcript (longer than one message may be here) arrives as a file.
    monkeypatch.setattr(recording_jobs, "MESSAGE_CHARS", 40)
    await alice.send_text(room, "!转写", reply_to=file_event)
    queued = await alice.wait_for_message(room, sender=bot.user_id, contains="已收到录音 R", since=mark)
    rcode = re.search(r"R\d+", queued.body or "").group(0)  # type: ignore[union-attr]
    for _ in range(600):
        if await bot.pump_timers():
            break
        await asyncio.sleep(0.1)
    await alice.wait_for(_edited_to(bot.user_id, f"见本话题中的附件 {rcode}.md"), since=mark, timeout=60)

    def attachment(item: Received) -> bool:
        return item.sender == bot.user_id and item.content.get("msgtype") == "m.file"

    sent = await alice.wait_for(attachment, since=mark, timeout=60)
    assert sent.content["m.relates_to"]["event_id"] == file_event and sent.content["body"] == f"{rcode}.md"
    text = (await alice.download(sent.content["url"])).decode("utf-8")
    assert text.startswith(f"# 录音 {rcode} 转写稿") and re.search(r"\[00:00:0\d\]", text) and "台风" in text


async def test_transcribe_in_an_encrypted_room(
    make_bot: MakeBot, make_user: MakeUser, recording: tuple[bytes, float]
) -> None:
    """`!转写` on an encrypted file: the relay decrypts the event replied to, then the file."""
    data, seconds = recording
    bot = await make_bot(e2ee=True)
    alice = await make_user("alice", e2e=True)
    room = await alice.create_room(invite=[bot.user_id], encrypted=True)
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    file_event = await _send_file(alice, room, data, int(seconds * 1000))
    await alice.send_text(room, "!转写", reply_to=file_event)
    queued = await alice.wait_for_message(room, sender=bot.user_id, contains="已收到录音 R", since=mark, timeout=60)
    rcode = re.search(r"R\d+", queued.body or "").group(0)  # type: ignore[union-attr]
    for _ in range(600):
        if await bot.pump_timers():
            break
        await asyncio.sleep(0.1)
    done = await alice.wait_for(_edited_to(bot.user_id, f"✅ {rcode} 转写完成"), since=mark, timeout=60)
    assert done.encrypted and "台风" in str(done.content["m.new_content"]["body"])
