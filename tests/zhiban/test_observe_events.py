"""Each event the bot handles is counted by feature and outcome, timed, and logged in domain
words: who asked for which command, with what outcome, never the message's text."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import REGISTRY

from bot import Router
from bot.types import Message
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
ALICE = "@alice:office.example"


def handled(feature: str, outcome: str) -> float:
    labels = {"feature": feature, "event": "message", "outcome": outcome}
    return REGISTRY.get_sample_value("zhiban_events_handled_total", labels) or 0.0


def timed(feature: str) -> float:
    return REGISTRY.get_sample_value("zhiban_handler_seconds_count", {"feature": feature}) or 0.0


def domain_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "zhiban.events"]


async def test_a_command_is_counted_timed_and_logged_by_feature(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room="!duty:office.example")
    ok, seen = handled("tasks", "ok"), timed("tasks")
    with caplog.at_level(logging.INFO, logger="zhiban.events"):
        await chat.reply_to(ALICE, "!remind room in 2 hours 取回机要室的印章")
    assert handled("tasks", "ok") == ok + 1
    assert timed("tasks") == seen + 1
    [line] = domain_lines(caplog)
    facts: Any = line
    assert (facts.feature, facts.command, facts.sender, facts.room, facts.outcome) == (
        "tasks",
        "remind",
        ALICE,
        "!duty:office.example",
        "ok",
    )
    assert "印章" not in caplog.text


async def test_a_users_mistake_counts_as_refused(db: Database) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room="!duty:office.example")
    refused = handled("approvals", "refused")
    answer = await chat.reply_to(ALICE, "!approve A999 同意")
    assert "A999" in answer
    assert handled("approvals", "refused") == refused + 1


async def test_a_failing_handler_counts_as_an_error_and_chatter_as_unhandled(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    chat = DispatchChat(db, FrozenClock(T0), room="!duty:office.example")
    broken = Router("broken.feature")

    @broken.message(lambda message, data: isinstance(message, Message) and message.body == "!坏了")
    async def fails() -> None:
        raise RuntimeError("a bug")

    chat.dispatcher.include_router(broken)
    errors, chatter = handled("broken", "error"), handled("none", "unhandled")
    with caplog.at_level(logging.INFO, logger="zhiban.events"):
        await chat.reply_to(ALICE, "!坏了")
        await chat.say(ALICE, "大家辛苦了")
    assert handled("broken", "error") == errors + 1
    assert handled("none", "unhandled") == chatter + 1
    [line] = domain_lines(caplog)  # the chatter is not worth a line at INFO
    assert line.levelno == logging.WARNING and getattr(line, "outcome", None) == "error"
