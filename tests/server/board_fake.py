"""A stand-in board source for the server's own tests (the real one is zhiban.board_wiring)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from server.board import EVERYTHING, ActionOutcome, BoardAction, BoardChange, JsonObject, Key


def board(*titles: str, late: bool = False) -> JsonObject:
    """A board with one approval per title, waiting on the viewer."""
    items: list[object] = [
        {
            "ref": f"A{n}",
            "title": title,
            "lines": ["第1步 · 等待您审批"],
            "late": late,
            "due": "2026-03-02T11:00:00+08:00",
            "group": None,
            "actions": [
                {"kind": "approve", "ref": f"A{n}", "label": "同意", "needs_text": False},
                {"kind": "reject", "ref": f"A{n}", "label": "驳回", "needs_text": True},
            ],
        }
        for n, title in enumerate(titles, start=1)
    ]
    return {
        "now": "2026-03-02T10:00:00+08:00",
        "sections": [{"key": "approvals", "title": "审批", "lines": [], "empty": "没有待办", "items": items}],
    }


@dataclass
class FakeSource:
    boards: dict[str, JsonObject] = field(default_factory=dict)
    actions: list[tuple[str, BoardAction]] = field(default_factory=list)
    snapshots: int = 0
    _changes: asyncio.Queue[BoardChange] = field(default_factory=asyncio.Queue)

    async def snapshot(
        self, user_id: str, lang: str, *, only: frozenset[str] | None = None, previous: JsonObject | None = None
    ) -> JsonObject:
        self.snapshots += 1  # always whole: the hub takes what the source answers
        found = self.boards.get(user_id)
        return {**found, "lang": lang} if found else {"now": "2026-03-02T10:00:00+08:00", "sections": [], "lang": lang}

    async def read_many(self, only: frozenset[str], boards: Mapping[Key, JsonObject]) -> dict[Key, JsonObject]:
        return {(user, lang): await self.snapshot(user, lang) for user, lang in boards}

    async def act(self, user_id: str, action: BoardAction) -> ActionOutcome:
        self.actions.append((user_id, action))
        if action.kind == "reject" and not action.opinion:
            return ActionOutcome(409, "approval.need_reason", "驳回须写明理由。")
        return ActionOutcome(200, "approval.approved_reply", f"🎉 {action.ref} 审批通过。")

    async def watch(self, on_change: Callable[[BoardChange], None]) -> None:
        while True:
            on_change(await self._changes.get())

    def commit(self, user_id: str, snapshot: JsonObject, change: BoardChange = EVERYTHING) -> None:
        """What a commit elsewhere does: the data changes, then a wake-up arrives."""
        self.boards[user_id] = snapshot
        self._changes.put_nowait(change)
