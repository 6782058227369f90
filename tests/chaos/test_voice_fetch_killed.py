"""The bot is killed (SIGKILL) after it fetched a voice message's audio, before it stored it;
restarted, it fetches the audio again and the message is transcribed exactly once.

The audio is fetched by the relay as an outbox action ("voice.fetch"), and the bytes, the
transcription job and the action's end are written in one transaction. Killed before that
commit, nothing of the fetch is kept and the action is still pending: the next bot does it
again. Killed after, the action is over and is never done twice. Either way one note, one job,
one transcript, as the homeserver's own room history shows.

The window is made certain: the first bot process runs with its media download wrapped so that,
once the whole file has arrived, it drops a marker file and hangs; the test kills it there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from commands.voice.models import VoiceNote
from records.db import Database
from records.models import AuditEntry, OutboxMessage
from records.outbox_actions import ACTION
from tests.chaos.test_incident_room_once import _until
from tests.commands.test_voice_flow import FLOOD
from tests.e2e.conftest import BotHandle, MakeBot
from tests.e2e.test_voice_fetch_e2e import engine, history, in_thread  # noqa: F401  (a fixture)
from tests.support.fixtures import MakeUser
from tests.support.voice_samples import MISSING_REASON

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(not FLOOD, reason=MISSING_REASON)]

# Runs `zhiban bot` with the media download hanging once the whole file has arrived.
_HANG_AFTER_DOWNLOAD = """
import asyncio, pathlib, runpy, sys
import bot.media

marker = pathlib.Path(sys.argv[1])
original = bot.media.download_capped

async def download_capped(nio_client, mxc, max_bytes):
    data = await original(nio_client, mxc, max_bytes)
    marker.write_text(str(len(data)))
    await asyncio.sleep(3600)  # killed here: fetched, not stored
    return data

bot.media.download_capped = download_capped
sys.argv = ["zhiban", "bot", "--config", sys.argv[2]]
runpy.run_module("zhiban.cli", run_name="__main__")
"""


def _spawn_hanging(bot: BotHandle, marker: Path) -> None:
    log = open(bot.config_path.parent / "bot-process.log", "ab")
    bot.process = subprocess.Popen(
        [sys.executable, "-c", _HANG_AFTER_DOWNLOAD, str(marker), str(bot.config_path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ZHIBAN_CONFIG": str(bot.config_path)},
    )


async def _records(bot: BotHandle, event_id: str) -> tuple[int, int, bool]:
    """(notes for the voice message, transcription jobs queued for it, its fetch has ended)."""
    db = Database(bot.settings.database_url)
    try:
        async with db.reading() as session:
            notes = list(await session.scalars(select(VoiceNote).where(VoiceNote.event_id == event_id)))
            queued = await session.scalar(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "voice.queue")
            )
            actions = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.event_type == ACTION)))
            ended = bool(actions) and all(a.sent_at is not None for a in actions)
            return len(notes), int(queued or 0), ended
    finally:
        await db.dispose()


@pytest.mark.usefixtures("engine")
async def test_a_bot_killed_between_fetching_and_storing_a_voice_message_transcribes_it_once(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    alice = await make_user("alice")
    bot = await make_bot(start=False, e2ee=False)
    marker = tmp_path / "voice-fetched"
    _spawn_hanging(bot, marker)
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id, timeout=60)

    mark = alice.mark()
    voice_event = await alice.send_voice(room, FLOOD, 4000)
    await _until(marker.exists, "the audio was never fetched")
    assert await _records(bot, voice_event) == (1, 0, False)  # the note; no bytes, no job yet
    bot.kill()  # the whole file had arrived; the bot never stored it
    bot.spawn()

    await alice.wait_for(
        lambda item: item.type == "m.reaction" and item.content["m.relates_to"].get("key") == "⏳",
        since=mark,
        timeout=90,
    )
    assert await _records(bot, voice_event) == (1, 1, True)
    assert await bot.pump_timers() == 1
    await alice.wait_for_message(room, sender=bot.user_id, contains="防汛", since=mark, timeout=90)
    await alice.wait_for(
        lambda item: item.type == "m.reaction" and item.content["m.relates_to"].get("key") == "✅",
        since=mark,
        timeout=90,
    )
    assert await bot.pump_timers() == 0
    events = await history(alice, room)
    assert len(in_thread(events, voice_event, bot.user_id, "语音转写")) == 1
    bot.terminate()
