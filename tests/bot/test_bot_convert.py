"""Raw Matrix events become framework events; malformed or foreign ones are dropped quietly."""

from __future__ import annotations

import time
from typing import Any

import nio
import pytest

from bot import BotClient, ClientOptions, Dispatcher, JoinPolicy, Message, ReactionEvent

NOW_MS = int(time.time() * 1000)


@pytest.fixture
async def client() -> BotClient:
    options = ClientOptions(
        homeserver="http://127.0.0.1:9", user_id="@zhiban:office", e2ee=False, join_policy=JoinPolicy(["office"])
    )
    bot = BotClient(options, Dispatcher())
    yield bot
    await bot.close()


def raw(content: Any, *, etype: str = "m.room.message", sender: str = "@li:office", **extra: Any) -> nio.Event:
    source = {
        "type": etype,
        "event_id": f"$e{id(content)}",
        "sender": sender,
        "origin_server_ts": NOW_MS,
        "content": content,
        **extra,
    }
    return nio.Event.parse_event(source)


def test_text_reply_and_thread_are_understood(client: BotClient) -> None:
    content = {
        "msgtype": "m.text",
        "body": "> <@zhang:office> 原文\n\n!approve A1 同意",
        "m.relates_to": {"rel_type": "m.thread", "event_id": "$root", "m.in_reply_to": {"event_id": "$card"}},
    }
    event = client.convert("!r:office", raw(content))
    assert isinstance(event, Message)
    assert event.thread_root == "$root" and event.reply_to == "$card" and event.body == "!approve A1 同意"


def test_voice_message_carries_its_media(client: BotClient) -> None:
    content = {
        "msgtype": "m.audio",
        "body": "Voice message",
        "url": "mxc://office/abc",
        "info": {"mimetype": "audio/ogg", "size": 1234, "duration": 3000},
        "org.matrix.msc3245.voice": {},
    }
    event = client.convert("!r:office", raw(content))
    assert isinstance(event, Message) and event.is_voice
    assert event.media is not None and event.media.url == "mxc://office/abc" and event.media.duration_ms == 3000


def test_an_audio_file_without_the_voice_mark_is_not_a_voice_note(client: BotClient) -> None:
    """A meeting recording sent as a file is not a voice note to transcribe and answer."""
    content = {
        "msgtype": "m.audio",
        "body": "周一例会录音.mp3",
        "url": "mxc://office/rec",
        "info": {"mimetype": "audio/mpeg", "size": 9_000_000, "duration": 3_600_000},
    }
    event = client.convert("!r:office", raw(content))
    assert isinstance(event, Message) and not event.is_voice
    assert event.media is not None and event.media.url == "mxc://office/rec"


def test_reaction_is_understood(client: BotClient) -> None:
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$card", "key": "✅"}}
    event = client.convert("!r:office", raw(content, etype="m.reaction"))
    assert isinstance(event, ReactionEvent) and event.key == "✅" and event.reacts_to == "$card"


@pytest.mark.parametrize(
    "content",
    [
        {"msgtype": "m.text"},  # no body
        {"msgtype": "m.text", "body": 42},  # body of the wrong type
        {"body": "!ping"},  # no msgtype
        {"msgtype": "m.text", "body": "!ping", "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"}},
    ],
)
def test_malformed_or_edited_messages_are_dropped(client: BotClient, content: dict[str, Any]) -> None:
    assert client.convert("!r:office", raw(content)) is None


def test_reaction_without_target_is_dropped(client: BotClient) -> None:
    assert client.convert("!r:office", raw({"m.relates_to": {"key": "✅"}}, etype="m.reaction")) is None


def test_own_and_foreign_senders_are_ignored(client: BotClient) -> None:
    content = {"msgtype": "m.text", "body": "!ping"}
    assert client.convert("!r:office", raw(content, sender="@zhiban:office")) is None
    assert client.convert("!r:office", raw(content, sender="@mallory:elsewhere.example")) is None
    assert client.convert("!r:office", raw(content)) is not None


def test_old_events_are_not_acted_on(client: BotClient) -> None:
    old = raw({"msgtype": "m.text", "body": "!ping"})
    old.source["origin_server_ts"] = NOW_MS - 7 * 3600 * 1000
    assert client.convert("!r:office", old) is None


@pytest.mark.parametrize("mentions", [{"user_ids": None}, {"user_ids": 5}, "everyone", {"user_ids": [3, "@li:office"]}])
def test_malformed_mentions_do_not_break_the_message(client: BotClient, mentions: object) -> None:
    event = client.convert("!r:office", raw({"msgtype": "m.text", "body": "!ping", "m.mentions": mentions}))
    assert isinstance(event, Message) and event.body == "!ping"
