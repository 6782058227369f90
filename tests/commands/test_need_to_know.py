"""Need-to-know for daily work: every read command of docs/need-to-know.md, through the real dispatcher.

The "Daily work" table of the page is parsed, and each row's example is asked by a stranger
(refused exactly as for a record that does not exist, and shown no title), by a member of the
record and by an office admin (both see it). Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from commands.voice import service as voice
from commands.voice.models import VoiceNote
from records.clock import FrozenClock
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from tests.support.need_to_know import (
    ADMIN,
    BOSS,
    MEMBER,
    OTHER_ROOM,
    ROOM,
    STRANGER,
    T0,
    add_reminder,
    office_chat,
    office_records,
)
from tests.support.need_to_know import TITLES as OFFICE_TITLES

DOC = Path(__file__).resolve().parents[2] / "docs" / "need-to-know.md"
TITLES = {**OFFICE_TITLES, "voice": "蓄滞洪区今晚八点前完成转移"}
# The command word tells which record a row is about.
KINDS = {
    "审批": "approval",
    "审批列表": "approval",
    "会议": "meeting",
    "会议列表": "meeting",
    "纪要": "meeting",
    "督办": "task",
    "督办列表": "task",
    "提醒列表": "reminder",
    "搜索": "voice",
}
# An id that exists nowhere, per placeholder.
UNKNOWN = {"approval": "A987654", "meeting": "M987654", "task": "T987654"}


@dataclass(frozen=True)
class Row:
    command: str
    who: str
    example: str

    @property
    def kind(self) -> str:
        return KINDS[self.example.lstrip("!").split()[0]]

    @property
    def placeholder(self) -> str | None:
        found = re.search(r"\{(\w+)\}", self.example)
        return found.group(1) if found else None

    @property
    def room_members_see(self) -> bool:
        """Rows whose rule admits anyone in the record's room (the record was posted there)."""
        return "anyone in its room" in self.who


def daily_work_rows() -> list[Row]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Daily work", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("command", "") or set(cells[0]) <= {"-"}:
            continue
        rows.append(Row(command=cells[0], who=cells[2], example=cells[3].strip("`")))
    return rows


ROWS = daily_work_rows()


def test_the_page_lists_every_daily_read_command() -> None:
    examples = {row.example.split()[0] for row in ROWS}
    assert {"!审批", "!审批列表", "!会议", "!纪要", "!会议列表", "!督办", "!督办列表", "!提醒列表", "!搜索"} <= examples
    assert {row.placeholder for row in ROWS} >= {"approval", "meeting", "task"}


async def _records(db: Database, clock: FrozenClock) -> dict[str, str]:
    """One record of each kind in ROOM, started by BOSS with MEMBER on it; their codes."""
    async with db.transaction() as session:
        codes = await office_records(session, clock, first_signer=ADMIN)
        await add_reminder(session, clock, owner=MEMBER, target="room", text=TITLES["reminder"])
        session.add(
            VoiceNote(
                room_id=ROOM,
                event_id="$voice1",
                sender=MEMBER,
                audio_url="mxc://localhost/voice1",
                status="done",
                text=TITLES["voice"],
                tokens=voice.tokenize(TITLES["voice"]),
                created_at=clock.now(),
                finished_at=clock.now(),
            )
        )
    return codes


def _chat(db: Database, clock: FrozenClock) -> DispatchChat:
    return office_chat(db, clock, {"admin": [ADMIN]})


@pytest.mark.parametrize("row", ROWS, ids=[row.example for row in ROWS])
async def test_each_read_shows_the_record_to_its_people_only(db: Database, row: Row) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    codes = await _records(db, clock)
    command = row.example.format(**codes)
    title = TITLES[row.kind]

    # Those the rule admits see the record: a member of it, and an office admin.
    for viewer in (MEMBER, ADMIN):
        seen = await chat.reply_to(viewer, command)
        assert title in seen, (viewer, command, seen)

    # A stranger sees nothing of it: in a DM, in another room, and in its own room (where
    # being a member is no admission, and power level 100 neither).
    places = [("!dm-stranger:localhost", True), (OTHER_ROOM, False)]
    if not row.room_members_see:
        places.append((ROOM, False))
    for room, dm in places:
        refused = await chat.reply_to(STRANGER, command, room, dm=dm)
        assert title not in refused, (room, command, refused)
        if row.placeholder in UNKNOWN:
            code, unknown = codes[row.placeholder], UNKNOWN[row.placeholder]
            missing = await chat.reply_to(STRANGER, row.example.format(**{row.placeholder: unknown}), room, dm=dm)
            assert refused == missing.replace(unknown, code), (room, refused, missing)
            assert refused.startswith("⚠️"), refused


async def test_a_stranger_cannot_read_a_meeting_or_its_calendar(db: Database) -> None:
    """`!会议 M1` and `!会议 ics M1` answered anyone, in the meeting's room and in a DM."""
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    code = (await _records(db, clock))["meeting"]
    for command in (f"!会议 {code}", f"!会议 ics {code}", f"!meeting {code}", f"!meeting ics {code}"):
        for room, dm in ((ROOM, False), ("!dm-stranger:localhost", True)):
            body = await chat.reply_to(STRANGER, command, room, dm=dm)
            assert TITLES["meeting"] not in body and "BEGIN:VCALENDAR" not in body, body
            assert f"没有找到会议 {code}" in body, body
    # Its people still can, from the room or their DM.
    assert "BEGIN:VCALENDAR" in await chat.reply_to(MEMBER, f"!会议 ics {code}", "!dm-member:localhost", dm=True)
    assert TITLES["meeting"] in await chat.reply_to(BOSS, f"!会议 {code}")


async def test_a_stranger_in_the_room_does_not_see_its_meetings_in_the_list(db: Database) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    await _records(db, clock)
    assert TITLES["meeting"] not in await chat.reply_to(STRANGER, "!会议列表")
    assert TITLES["meeting"] in await chat.reply_to(MEMBER, "!会议列表")


async def test_a_signer_in_another_room_is_sent_to_the_right_room_but_a_stranger_learns_nothing(
    db: Database,
) -> None:
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    code = (await _records(db, clock))["approval"]
    member = await chat.reply_to(MEMBER, f"!审批 查看 {code}", OTHER_ROOM)
    assert "不是在本群发起的" in member, member
    stranger = await chat.reply_to(STRANGER, f"!审批 查看 {code}", OTHER_ROOM)
    assert f"没有找到审批 {code}" in stranger and "不是在本群发起的" not in stranger, stranger


async def test_registered_searchers_learn_who_searches_so_they_can_apply_their_rule(db: Database) -> None:
    """`!搜索` hands each feature's searcher who searches, where and with which roles."""
    clock = FrozenClock(T0)
    chat = _chat(db, clock)
    await _records(db, clock)
    calls: list[dict[str, object]] = []

    async def with_roles(session: object, *, user: str, room_id: str, terms: object, limit: int, roles: object) -> list:
        calls.append({"user": user, "room_id": room_id, "roles": roles})
        return []

    voice.register_searcher(with_roles)
    try:
        body = await chat.reply_to(ADMIN, "!搜索 蓄滞洪区")
    finally:
        voice.unregister_searcher(with_roles)
    assert TITLES["voice"] in body
    assert calls[0]["user"] == ADMIN and calls[0]["room_id"] == ROOM
    assert isinstance(calls[0]["roles"], frozenset) and "admin" in calls[0]["roles"]
    assert len(calls) == 1
