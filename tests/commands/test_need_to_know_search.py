"""`!search` over approvals, meetings and tasks: each feature's searcher applies its own rule.

The records' titles all hold the word searched for; each record shows up for those its rule
admits (docs/need-to-know.md) and for nobody else, wherever they search from. Runs on SQLite
and PostgreSQL, through the real dispatcher.
"""

from __future__ import annotations

import pytest

from records.clock import FrozenClock
from records.db import Database
from tests.commands.test_need_to_know_writes import (
    ADMIN,
    BOSS,
    LEADER,
    MEMBER,
    OTHER_ROOM,
    ROOM,
    STRANGER,
    T0,
    TITLES,
    _chat,
    _records,
)

KINDS = ("approval", "meeting", "task")


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        (BOSS, KINDS),
        (MEMBER, KINDS),
        (ADMIN, KINDS),
        # Leaders oversee tasks, and get no blanket view of approvals or meetings.
        (LEADER, ("task",)),
        (STRANGER, ()),
    ],
)
async def test_search_finds_a_record_only_for_those_its_rule_admits(
    db: Database, who: str, sees: tuple[str, ...]
) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    codes = await _records(db, clock)
    for room, dm in ((ROOM, False), (OTHER_ROOM, False), (f"!dm-{who[1:].split(':')[0]}:localhost", True)):
        body = await chat.reply_to(who, "!搜索 蓄滞洪区", room, dm=dm)
        for kind in KINDS:
            found = TITLES[kind] in body and f"{codes[kind]} ·" in body
            assert found == (kind in sees), (who, room, kind, body)


async def test_search_needs_every_word_of_the_query(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    codes = await _records(db, clock)
    body = await chat.reply_to(MEMBER, "!搜索 蓄滞洪区 会商")
    assert TITLES["meeting"] in body and codes["meeting"] in body, body
    assert TITLES["approval"] not in body and TITLES["task"] not in body, body
