"""The homeserver restarts: a command sent once it is back is answered promptly.

The bot used to double its pause between failed syncs up to 30 s, so after a restart of about
half a minute it slept on for another 13–16 s, and commands went unanswered meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import MakeBot
from tests.support.chat_user import ChatUser
from tests.support.fixtures import MakeUser
from tests.support.synapse import start_test_homeserver
from zhiban.local.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e

# About as long as a homeserver upgrade or a host reboot keeps it away.
DOWN_SECONDS = 28
# The usual wait for a chat answer in these tests: the bot must be listening again by then.
ANSWER_WITHIN = 8.0


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def homeserver(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalHomeserver]:
    """A homeserver of this module's own, since the test stops it (the shared one stays up)."""
    hs = await start_test_homeserver(tmp_path_factory.mktemp("restarted-homeserver"))
    try:
        yield hs
    finally:
        await hs.stop()


async def test_a_command_sent_after_a_homeserver_restart_is_answered_promptly(
    homeserver: LocalHomeserver, make_bot: MakeBot, make_user: MakeUser
) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    await alice.send_text(room, "!ping")
    await alice.wait_for_message(room, sender=bot.user_id, contains="在线")
    localpart = alice.user_id.split(":")[0].lstrip("@")
    await alice.stop()  # her client gives up while the server is away; she comes back after

    await homeserver.stop()
    await asyncio.sleep(DOWN_SECONDS)
    await homeserver.start()
    back_at = time.monotonic()

    alice_again = await ChatUser.create(homeserver, localpart)
    await alice_again.start()
    try:
        await alice_again.send_text(room, "!ping")
        reply = await alice_again.wait_for_message(room, sender=bot.user_id, contains="在线", timeout=ANSWER_WITHIN)
        assert reply.body
        print(f"answered {time.monotonic() - back_at:.1f}s after the homeserver was back")
    finally:
        await alice_again.stop()
