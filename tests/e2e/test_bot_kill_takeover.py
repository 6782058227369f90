"""kill -9, then start the same bot again: it takes its own lease at once, without standing by."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_a_bot_restarted_after_kill_answers_without_standing_by(make_bot: MakeBot, make_user: MakeUser) -> None:
    bot = await make_bot(start=False, e2ee=False)
    log = bot.config_path.parent / "bot-process.log"
    bot.spawn()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id, timeout=60)
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=bot.user_id, contains="在线", timeout=60)

    bot.kill()  # the lease it renewed a moment ago stays in the database for up to 30 s
    restarted_at = log.stat().st_size
    bot.spawn()
    probe = alice.mark()
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=bot.user_id, contains="在线", since=probe, timeout=60)
    bot.terminate()
    second_run = log.read_bytes()[restarted_at:].decode(errors="replace")
    assert "standing by" not in second_run, second_run[-2000:]
