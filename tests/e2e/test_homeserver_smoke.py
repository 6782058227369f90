"""A real Synapse and two scripted users: the ground every e2e test stands on."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from nio import ReactionEvent, RoomMessageAudio, RoomMessageText
from nio.crypto import decrypt_attachment

from tests.support.chat_user import Received
from tests.support.fixtures import MakeUser, homeserver, make_user
from zhiban.local.homeserver import HomeserverError, LocalHomeserver

__all__ = ["homeserver", "make_user"]  # fixtures, imported so this module runs standalone

pytestmark = pytest.mark.e2e

FAKE_OGG = b"OggS" + os.urandom(2048)


async def test_register_is_idempotent_and_login_works(homeserver: LocalHomeserver) -> None:
    first = await homeserver.register("smoke-idem", "pw-1")
    again = await homeserver.register("smoke-idem", "pw-1")
    assert first == again == "@smoke-idem:localhost"
    token, device_id = await homeserver.login(first, "pw-1")
    assert token and device_id
    with pytest.raises(HomeserverError):
        await homeserver.login(first, "wrong password")


async def test_config_is_loopback_only_and_not_throttled(homeserver: LocalHomeserver) -> None:
    text = homeserver.config_path.read_text()
    assert '"127.0.0.1"' in text
    assert '"federation"' not in text
    assert '"per_second": 0' not in text
    assert homeserver.base_url.startswith("http://127.0.0.1:")


async def test_text_round_trip_with_reply_and_thread(make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bob.user_id], name="smoke")
    await alice.wait_for_member(room, bob.user_id)

    marker = bob.mark()  # before acting: the reply may arrive before the wait starts
    sent = await alice.send_text(room, "hello bob", html="<b>hello</b> bob")
    got = await bob.wait_for_message(room, sender=alice.user_id, contains="hello bob", since=marker)
    assert got.event_id == sent
    assert isinstance(got.event, RoomMessageText)
    assert got.content["formatted_body"] == "<b>hello</b> bob"
    assert not got.encrypted

    marker = alice.mark()
    reply = await bob.send_text(room, "hi alice", reply_to=sent)
    in_thread = await bob.send_text(room, "in a thread", thread_root=sent)
    got_reply = await alice.wait_for_message(room, sender=bob.user_id, contains="hi alice", since=marker)
    got_thread = await alice.wait_for_message(room, sender=bob.user_id, contains="thread", since=marker)
    assert got_reply.event_id == reply
    assert got_reply.content["m.relates_to"]["m.in_reply_to"]["event_id"] == sent
    assert got_thread.event_id == in_thread
    assert got_thread.content["m.relates_to"]["rel_type"] == "m.thread"
    assert got_thread.content["m.relates_to"]["event_id"] == sent


async def test_waits_see_events_that_arrived_before_the_wait(make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bob.user_id])
    await alice.wait_for_member(room, bob.user_id)
    sent = await alice.send_text(room, "early bird")
    await bob.wait_for_event(sent)  # now surely in bob's log, before any wait below starts

    # Default marker: just before bob's latest action (here: his start), so it is found.
    seen = await bob.wait_for_message(room, sender=alice.user_id, contains="early bird")
    assert seen.event_id == sent
    # A marker taken now excludes it.
    with pytest.raises(TimeoutError):
        await bob.wait_for_message(room, sender=alice.user_id, contains="early bird", since=bob.mark(), timeout=0.5)

    # An action of bob's moves the default marker past it.
    await bob.send_text(room, "bob speaks")
    with pytest.raises(TimeoutError):
        await bob.wait_for_message(room, sender=alice.user_id, contains="early bird", timeout=0.5)


async def test_reaction_round_trip(make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bob.user_id], direct=True)
    await alice.wait_for_member(room, bob.user_id)
    message = await alice.send_text(room, "approve me")
    await bob.wait_for_event(message)

    marker = alice.mark()
    await bob.react(room, message, "👍")

    def is_thumbs_up(item: Received) -> bool:
        return item.type == "m.reaction" and item.sender == bob.user_id

    got = await alice.wait_for(is_thumbs_up, since=marker)
    assert isinstance(got.event, ReactionEvent)
    assert got.event.reacts_to == message
    assert got.event.key == "👍"


async def test_voice_round_trip(make_user: MakeUser) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    room = await alice.create_room(invite=[bob.user_id])
    await alice.wait_for_member(room, bob.user_id)

    sent = await alice.send_voice(room, FAKE_OGG, duration_ms=2300)
    got = await bob.wait_for_event(sent)
    assert isinstance(got.event, RoomMessageAudio)
    assert "org.matrix.msc3245.voice" in got.content
    assert got.content["org.matrix.msc1767.audio"]["duration"] == 2300
    assert got.content["info"] == {"mimetype": "audio/ogg", "size": len(FAKE_OGG), "duration": 2300}
    assert await bob.download(got.content["url"]) == FAKE_OGG


async def test_encrypted_room_round_trip(make_user: MakeUser) -> None:
    alice = await make_user("alice", e2e=True)
    bob = await make_user("bob", e2e=True)
    room = await alice.create_room(invite=[bob.user_id], encrypted=True, name="secret")
    await alice.wait_for_member(room, bob.user_id)

    marker = bob.mark()
    sent = await alice.send_text(room, "密文 secret text")
    got = await bob.wait_for_message(room, sender=alice.user_id, contains="密文", since=marker)
    assert got.event_id == sent
    assert got.encrypted and not got.undecryptable
    assert got.body == "密文 secret text"

    # And back: bob's session reaches alice too; reactions are encrypted like Element's.
    answer = await bob.send_text(room, "收到", reply_to=sent)
    back = await alice.wait_for_event(answer)
    assert back.event_id == answer and back.encrypted
    assert back.content["m.relates_to"]["m.in_reply_to"]["event_id"] == sent

    reaction = await bob.react(room, sent, "✅")
    got_reaction = await alice.wait_for_event(reaction)
    assert got_reaction.encrypted
    assert isinstance(got_reaction.event, ReactionEvent)
    assert got_reaction.event.key == "✅"

    voice = await alice.send_voice(room, FAKE_OGG, duration_ms=1200)
    got_voice = await bob.wait_for_event(voice)
    assert got_voice.encrypted and "org.matrix.msc3245.voice" in got_voice.content
    file_info = got_voice.content["file"]
    ciphertext = await bob.download(file_info["url"])
    assert ciphertext != FAKE_OGG
    plain = decrypt_attachment(ciphertext, file_info["key"]["k"], file_info["hashes"]["sha256"], file_info["iv"])
    assert plain == FAKE_OGG


async def test_encrypted_room_member_who_joins_later_can_read(make_user: MakeUser) -> None:
    """A new member must get the rotated room key, not the one shared before they came."""
    alice = await make_user("alice", e2e=True)
    bob = await make_user("bob", e2e=True)
    carol = await make_user("carol", e2e=True)
    room = await alice.create_room(invite=[bob.user_id], encrypted=True)
    await alice.wait_for_member(room, bob.user_id)
    before = await alice.send_text(room, "before carol")
    assert (await bob.wait_for_event(before)).encrypted

    await alice.invite(room, carol.user_id)
    await alice.wait_for_member(room, carol.user_id)
    welcome = await alice.send_text(room, "welcome carol")
    got = await carol.wait_for_event(welcome)
    assert got.body == "welcome carol"
    assert got.encrypted and not got.undecryptable


async def test_restart_keeps_port_config_and_accounts(tmp_path: Path) -> None:
    data = tmp_path / "hs"
    async with LocalHomeserver(data) as hs:
        port = hs.port
        user_id = await hs.register("keeper", "pw")
    config = (data / "homeserver.yaml").read_bytes()

    # A fresh object on the same folder, as a second `zhiban up` would make.
    again = LocalHomeserver(data)
    async with again:
        assert again.port == port
        token, _device = await again.login(user_id, "pw")
        assert token
    assert (data / "homeserver.yaml").read_bytes() == config
    assert not again.pid_path.exists()


async def test_stale_process_from_a_crashed_run_is_replaced(tmp_path: Path) -> None:
    data = tmp_path / "hs"
    orphan = LocalHomeserver(data)
    await orphan.start()
    orphan_pid = orphan.pid
    assert orphan_pid is not None
    successor = LocalHomeserver(data)  # its owner "crashed": orphan still holds the port
    try:
        await successor.start()
        assert successor.pid != orphan_pid
        assert await successor.register("after-crash", "pw") == "@after-crash:localhost"
    finally:
        await successor.stop()
        await orphan.stop()  # reaps the already-terminated child


async def test_start_failure_reports_the_log_tail(tmp_path: Path) -> None:
    hs = LocalHomeserver(tmp_path / "broken")
    hs.prepare()
    text = hs.config_path.read_text().replace('"name": "sqlite3"', '"name": "no-such-engine"')
    hs.config_path.write_text(text)
    try:
        with pytest.raises(HomeserverError) as excinfo:
            await hs.start(timeout=60)
    finally:
        await hs.stop()
    assert "exited with code" in str(excinfo.value)
    assert "no-such-engine" in str(excinfo.value)  # the cause, from the log tail
    assert not hs.running


async def test_port_taken_by_someone_else_is_refused(homeserver: LocalHomeserver, tmp_path: Path) -> None:
    squatter = LocalHomeserver(tmp_path / "squatter", port=homeserver.port)
    with pytest.raises(HomeserverError, match="already in use"):
        await squatter.start()


async def test_bench_echo_bot_answers_new_pings_only(homeserver: LocalHomeserver, make_user: MakeUser) -> None:
    from bench.echo_bot import run_echo_bot

    alice = await make_user("alice")
    bot_id = await homeserver.register(f"echo-{alice.user_id[1:].split(':')[0]}", "pw")
    token, device_id = await homeserver.login(bot_id, "pw")
    room = await alice.create_room(invite=[bot_id])
    old_ping = await alice.send_text(room, "!ping from before the bot started")

    def pong_to(ping_id: str) -> Callable[[Received], bool]:
        def matches(item: Received) -> bool:
            relates = item.content.get("m.relates_to", {})
            return item.sender == bot_id and relates.get("m.in_reply_to", {}).get("event_id") == ping_id

        return matches

    ready = asyncio.Event()
    bot = asyncio.create_task(run_echo_bot(homeserver.base_url, bot_id, token, device_id, ready=ready))
    try:
        await ready.wait()
        await alice.wait_for_member(room, bot_id)  # joined the pending invite
        await alice.send_text(room, "no prefix, no answer")
        for n in (1, 2):
            ping = await alice.send_text(room, f"!ping {n}")
            pong = await alice.wait_for(pong_to(ping))
            assert pong.body == "pong"
        # The joined room's history reached the bot too, before the new pings: it was not answered.
        pongs = [i for i in alice.received if i.sender == bot_id and i.type == "m.room.message"]
        assert len(pongs) == 2
        assert not any(pong_to(old_ping)(p) for p in pongs)
    finally:
        bot.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bot
