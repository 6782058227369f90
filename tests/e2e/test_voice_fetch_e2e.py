"""Voice messages through a real Synapse while the audio cannot be fetched for a while.

The bot used to download the audio inside the handler's transaction: a media download that
failed for a moment answered the message with "无法获取这条语音的音频，请重新发送" at once, and
on SQLite the database stayed locked while it waited. Now the handler only records the message;
the bot's relay fetches the audio, trying again while the homeserver answers nothing, and the
transcript arrives once it can, exactly once, as the homeserver's own room history shows.

The media repository's outage is made certain by failing the bot's download (in this process)
with a refused connection until the test lets it through; the rest is real. The transcription
timer runs in this process (``bot.pump_timers()``) with a stand-in engine, as a worker would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from sqlalchemy import select

import bot.media
import commands.voice.jobs as jobs
from commands.voice.models import VoiceAudio, VoiceNote
from records.db import Database
from tests.commands.test_voice_flow import FLOOD, FakeTranscriber
from tests.e2e.conftest import BotHandle, MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser
from tests.support.voice_samples import MISSING_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not FLOOD, reason=MISSING_REASON)]

REFUSED = "无法获取这条语音的音频"


@pytest.fixture
def engine() -> Iterator[FakeTranscriber]:
    """A stand-in for the speech engine in this process, which runs the timers."""
    stand_in = FakeTranscriber()
    jobs.use_transcriber(stand_in)
    yield stand_in
    jobs.use_transcriber(None)


async def until(check: Callable[[], bool], what: str, seconds: float = 60.0) -> None:
    """Wait for `check()` to hold (a guard against a hang, not a speed check)."""
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise TimeoutError(what)


async def history(user: ChatUser, room_id: str) -> list[dict[str, Any]]:
    """The room's events as the homeserver keeps them (oldest first), read with `/messages`."""
    url = f"{user.hs.base_url}/_matrix/client/v3/rooms/{quote(room_id)}/messages"
    params = {"dir": "b", "limit": "500"}
    headers = {"Authorization": f"Bearer {user.access_token}"}
    async with aiohttp.ClientSession() as http, http.get(url, params=params, headers=headers) as response:
        response.raise_for_status()
        return list(reversed((await response.json())["chunk"]))


def in_thread(events: list[dict[str, Any]], root: str, sender: str, contains: str) -> list[dict[str, Any]]:
    """The messages of `sender` in `root`'s thread whose text holds `contains`."""
    return [
        e
        for e in events
        if e.get("type") == "m.room.message"
        and e.get("sender") == sender
        and (e.get("content", {}).get("m.relates_to") or {}).get("event_id") == root
        and contains in str(e.get("content", {}).get("body", ""))
    ]


def reactions(events: list[dict[str, Any]], target: str, sender: str, key: str) -> list[dict[str, Any]]:
    return [
        e
        for e in events
        if e.get("type") == "m.reaction"
        and e.get("sender") == sender
        and (e.get("content", {}).get("m.relates_to") or {}).get("event_id") == target
        and e["content"]["m.relates_to"].get("key") == key
    ]


async def stored(bot: BotHandle, event_id: str) -> tuple[str | None, bool]:
    """The note's status for the voice message (None: no note), and whether its bytes are kept."""
    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            note = await session.scalar(select(VoiceNote).where(VoiceNote.event_id == event_id))
            if note is None:
                return None, False
            audio = await session.scalar(select(VoiceAudio.note_id).where(VoiceAudio.note_id == note.id))
            return note.status, audio is not None
    finally:
        await db.dispose()


async def test_a_voice_message_is_transcribed_once_the_audio_can_be_fetched(
    make_bot: MakeBot, make_user: MakeUser, engine: FakeTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    outage = {"down": True, "tries": 0}
    real_download = bot.media.download_capped

    async def download(nio_client: Any, mxc: str, max_bytes: int) -> bytes:
        if outage["down"]:
            outage["tries"] += 1
            raise aiohttp.ClientConnectionError("the media repository is unreachable")
        return await real_download(nio_client, mxc, max_bytes)

    monkeypatch.setattr(bot.media, "download_capped", download)
    zhiban = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[zhiban.user_id])
    await alice.wait_for_member(room, zhiban.user_id)

    voice_event = await alice.send_voice(room, FLOOD, 4000)
    # The message is recorded while the audio cannot be had, and the bot keeps trying.
    await until(lambda: outage["tries"] >= 3, "the bot never tried to fetch the audio")
    assert await stored(zhiban, voice_event) == ("queued", False)
    # Checking the room a little later: still nothing refused, nothing acknowledged yet.
    await until(lambda: outage["tries"] >= 4, "the bot stopped trying to fetch the audio")
    events = await history(alice, room)
    assert not in_thread(events, voice_event, zhiban.user_id, REFUSED)
    assert not reactions(events, voice_event, zhiban.user_id, "⚠️")

    outage["down"] = False
    for _ in range(600):  # the next try stores the audio and lets the ⏳ go
        if await stored(zhiban, voice_event) == ("queued", True):
            break
        await asyncio.sleep(0.1)
    assert await zhiban.pump_timers() == 1
    await alice.wait_for_message(room, sender=zhiban.user_id, contains="防汛", timeout=60)
    await alice.wait_for(
        lambda item: item.type == "m.reaction" and item.content["m.relates_to"].get("key") == "✅", timeout=60
    )
    assert await zhiban.pump_timers() == 0  # the job ran once, and only one was queued

    events = await history(alice, room)
    assert len(in_thread(events, voice_event, zhiban.user_id, "语音转写")) == 1
    assert not in_thread(events, voice_event, zhiban.user_id, REFUSED)
    assert len(engine.calls) == 1


async def test_a_voice_message_whose_file_is_not_on_the_homeserver_is_answered_not_retried(
    make_bot: MakeBot, make_user: MakeUser, engine: FakeTranscriber
) -> None:
    zhiban = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[zhiban.user_id])
    await alice.wait_for_member(room, zhiban.user_id)
    mxc, _ = await alice.upload(FLOOD, mimetype="audio/ogg", filename="v.ogg", encrypt=False)
    server = mxc.removeprefix("mxc://").split("/", 1)[0]
    content = {
        "msgtype": "m.audio",
        "body": "Voice message.ogg",
        "url": f"mxc://{server}/NoSuchMediaHere",
        "info": {"mimetype": "audio/ogg", "size": len(FLOOD), "duration": 4000},
        "org.matrix.msc3245.voice": {},
        "org.matrix.msc1767.audio": {"duration": 4000, "waveform": [0] * 32},
    }
    voice_event = await alice.send(room, "m.room.message", content)

    await alice.wait_for_message(room, sender=zhiban.user_id, contains=REFUSED, timeout=60)
    await alice.wait_for(
        lambda item: item.type == "m.reaction" and item.content["m.relates_to"].get("key") == "⚠️", timeout=60
    )
    assert await stored(zhiban, voice_event) == ("failed", False)
    assert await zhiban.pump_timers() == 0
    events = await history(alice, room)
    assert len(in_thread(events, voice_event, zhiban.user_id, REFUSED)) == 1
    assert not reactions(events, voice_event, zhiban.user_id, "⏳")  # never shown: nothing was waited for
    assert engine.calls == []
