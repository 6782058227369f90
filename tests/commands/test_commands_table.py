"""Every row of docs/commands.md, through the real dispatcher: each mistake gets its answer.

For each command and sub-command of the table: the near-miss example gets a "did you mean"
naming the command (and the sub-command), the missing-argument example, typed by someone who
may use the command, gets the command's usage (never "unknown command"), and the unknown-person example is refused naming the person before
anything is created. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from commands.approvals.models import Approval
from commands.meetings.models import Meeting
from commands.tasks.models import Task
from records.db import Database
from tests.support.dispatch_chat import DispatchChat
from tests.support.office_chat import BOSS, ROOM, office_chat

DOC = Path(__file__).resolve().parents[2] / "docs" / "commands.md"
NOBODY = "@nobody"


@dataclass(frozen=True)
class Row:
    command: str  # "!审批 查看"
    near_miss: str | None
    missing: str | None
    unknown_person: str | None

    @property
    def word(self) -> str:
        return self.command.split()[0].lstrip("!")

    @property
    def sub(self) -> str | None:
        parts = self.command.split()
        return parts[1] if len(parts) > 1 else None


def _cells(line: str) -> list[str]:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def _example(cell: str) -> str | None:
    match = re.fullmatch(r"`([^`]+)`", cell)
    return match.group(1) if match else None


def table() -> list[Row]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `!"):
            continue
        command, _usage, near, missing, person = _cells(line)
        rows.append(Row(_example(command) or command, _example(near), _example(missing), _example(person)))
    return rows


def test_the_table_covers_every_command_and_sub_command(db: Database) -> None:
    rows = table()
    for spec in _chat(db).dispatcher.commands():
        mine = [row for row in rows if spec.matches_word(row.word)]
        assert mine, f"docs/commands.md has no row for !{spec.name}"
        for sub in spec.subcommands.subs if spec.subcommands else ():
            assert any(row.sub in sub.words for row in mine), f"docs/commands.md has no row for !{spec.name} {sub.name}"


def _chat(db: Database, roles: dict[str, list[str]] | None = None) -> DispatchChat:
    return office_chat(db, roles=roles)


# Usage answers wrong words; someone without the right is refused without it (a retry would
# fail again), so the missing-argument rows are typed by someone who may use every command.
MAY_USE_ALL = {"admin": [BOSS], "duty_officer": [BOSS]}


async def _answer(chat: DispatchChat, body: str) -> str:
    sent = await chat.say(BOSS, body)
    # A refusal never leaves a wizard behind: clear one if a row started it, for the next row.
    await chat.say(BOSS, "!取消")
    return "\n".join(str(row.content["body"]) for row in sent if row.room_id == ROOM)


async def test_every_near_miss_gets_a_did_you_mean_naming_the_command(db: Database) -> None:
    chat = _chat(db)
    failures = []
    for row in table():
        if row.near_miss is None:
            continue
        spec = chat.dispatcher.find_command(row.word)
        assert spec is not None, row
        body = await _answer(chat, row.near_miss)
        suggestion = body.partition("您是不是想用 ")[2]
        names = [spec.name, *spec.aliases]
        ok = any(suggestion.startswith(f"!{name}") for name in names)
        if row.sub is not None and spec.subcommands is not None:
            sub = spec.subcommands.find(row.sub)
            assert sub is not None, row
            ok = ok and any(word in suggestion for word in sub.words)
        if not ok:
            failures.append((row.near_miss, body))
    assert not failures, failures


async def test_every_missing_argument_gets_the_usage(db: Database) -> None:
    chat = _chat(db, MAY_USE_ALL)
    failures = []
    for row in table():
        if row.missing is None:
            continue
        body = await _answer(chat, row.missing)
        if "用法" not in body or "未知命令" in body:
            failures.append((row.missing, body))
    assert not failures, failures


async def test_every_unknown_person_is_named_and_nothing_is_created(db: Database) -> None:
    chat = _chat(db)
    failures = []
    for row in table():
        if row.unknown_person is None:
            continue
        body = await _answer(chat, row.unknown_person)
        if NOBODY not in body or not body.startswith("⚠️"):
            failures.append((row.unknown_person, body))
    assert not failures, failures
    async with db.reading() as session:
        for model in (Approval, Meeting, Task):
            assert await session.scalar(select(func.count()).select_from(model)) == 0, model
