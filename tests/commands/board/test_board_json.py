"""The board's data as the web board reads it: plain JSON, times in the viewer's zone."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.board.service import board_for
from commands.board_section import Action, Item, Section, Viewer

NOW = datetime(2026, 12, 3, 0, 30, tzinfo=UTC)


async def approvals(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    waiting = Item(
        ref="A12",
        title="关于防汛物资采购的请示",
        due=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
        late=False,
        actions=(Action("approve", "A12", "同意"), Action("reject", "A12", "驳回", needs_text=True)),
    )
    return Section(key="approvals", title="审批", items=(waiting,))


async def tasks(session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
    return Section(key="tasks", title="督办", items=(Item(ref="T7", title="排查隐患", late=True),))


async def test_the_board_is_plain_json_with_times_in_the_viewers_zone() -> None:
    viewer = Viewer("@chu:hs", frozenset({"leader"}), lang="zh", tz="Asia/Shanghai")
    board = await board_for(None, viewer, NOW, (approvals, tasks))  # type: ignore[arg-type]

    data = board.as_json()
    assert json.loads(json.dumps(data)) == data
    assert data["now"] == "2026-12-03T08:30:00+08:00"
    assert (data["late"], data["actionable"]) == (1, 1)
    first = data["sections"][0]  # type: ignore[index]
    assert first["key"] == "approvals"  # type: ignore[index]
    item = first["items"][0]  # type: ignore[index]
    assert item["due"] == "2026-12-03T18:00:00+08:00"  # type: ignore[index]
    assert [a["kind"] for a in item["actions"]] == ["approve", "reject"]  # type: ignore[index]
    assert item["actions"][1]["needs_text"] is True  # type: ignore[index]
