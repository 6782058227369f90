"""The board's contract (一屏知全局): what a feature contributes and what the board shows.

Each feature lists its sources in ``Feature.board_sections``; a source is a ``BoardSection``:
``fn(session, viewer, now) -> Section``. It returns only what the feature's own need-to-know
rule (the one chat uses, commands.visibility) admits for ``viewer``, with texts already in
``viewer.lang`` and times in ``viewer.tz``. The board feature (commands.board.service.board_for)
asks every source in turn; chat cards, the morning briefing and the web board all read the same
``Board``, so what one shows the others show too.

JSON form (``as_json()``; plain dicts, lists, str, int, bool and None; times ISO 8601 with zone)::

    Section: {"key": "approvals", "title": "审批", "lines": ["..."], "items": [Item, ...]}
    Item:    {"ref": "A12", "title": "...", "lines": ["..."], "late": false,
              "due": "2026-12-03T18:00:00+08:00" | null, "group": "..." | null,
              "actions": [Action, ...]}
    Action:  {"kind": "approve", "ref": "A12", "label": "同意", "needs_text": false}

``lines`` of a section are facts that are no record of their own (today's duty roster);
``ref`` is the id people type in chat (A12, E3, T7, M2, O9), or null for a line such as a
notice; ``group`` is what items are grouped under (an incident's grade, a task's owner).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

ActionKind = Literal["approve", "reject", "ack", "progress", "done", "rsvp_yes", "rsvp_no"]
ACTION_KINDS: frozenset[str] = frozenset(get_args(ActionKind))

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
Json = dict[str, JsonValue]


def iso(moment: datetime | None, tz: str) -> str | None:
    """``moment`` (aware) in the viewer's zone as ISO 8601 with its offset."""
    return moment.astimezone(ZoneInfo(tz)).isoformat() if moment is not None else None


@dataclass(frozen=True)
class Viewer:
    """Who looks at the board: their roles (records.people) decide what each section admits."""

    user_id: str
    roles: frozenset[str] = frozenset()
    lang: str = "zh"
    tz: str = "Asia/Shanghai"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)


@dataclass(frozen=True)
class Action:
    """Something the viewer may do to an item from the board, through the same service as chat."""

    kind: ActionKind
    ref: str
    label: str
    needs_text: bool = False  # a reason (reject) or a figure (progress) must come with it

    def as_json(self) -> Json:
        return {"kind": self.kind, "ref": self.ref, "label": self.label, "needs_text": self.needs_text}


@dataclass(frozen=True)
class Item:
    """One record on the board (or one line of a list that has no record of its own)."""

    ref: str | None
    title: str
    lines: tuple[str, ...] = ()
    late: bool = False
    due: datetime | None = None
    actions: tuple[Action, ...] = ()
    group: str | None = None

    def as_json(self, tz: str) -> Json:
        return {
            "ref": self.ref,
            "title": self.title,
            "lines": list(self.lines),
            "late": self.late,
            "due": iso(self.due, tz),
            "group": self.group,
            "actions": [action.as_json() for action in self.actions],
        }


@dataclass(frozen=True)
class Section:
    """One feature's part of the board, already scoped to the viewer and in their language."""

    key: str  # "emergency", "duty", "approvals", "tasks", "meetings", "notices"
    title: str
    items: tuple[Item, ...] = ()
    lines: tuple[str, ...] = ()
    empty: str = ""  # what the section says when it has nothing for the viewer

    @property
    def late(self) -> int:
        return sum(1 for item in self.items if item.late)

    @property
    def actionable(self) -> int:
        return sum(1 for item in self.items if item.actions)

    def as_json(self, tz: str) -> Json:
        return {
            "key": self.key,
            "title": self.title,
            "lines": list(self.lines),
            "empty": self.empty,
            "items": [item.as_json(tz) for item in self.items],
        }


#: A feature's source of one section: ``fn(session, viewer, now)``; ``now`` is aware (UTC).
BoardSection = Callable[[AsyncSession, Viewer, datetime], Awaitable[Section]]
#: The same for many viewers of one language at once: ``fn(session, viewers, now)`` -> each
#: viewer's section by their user id (each still scoped to its viewer alone).
ManySections = Callable[[AsyncSession, Sequence[Viewer], datetime], Awaitable[dict[str, Section]]]


@dataclass(frozen=True)
class ManyAtOnce:
    """A section source that can also read many viewers' sections in a few statements: a
    change that reaches everyone (an office-wide notice) then costs one read, not one per open
    board. Called as a `BoardSection` it reads one viewer's."""

    many: ManySections

    async def __call__(self, session: AsyncSession, viewer: Viewer, now: datetime) -> Section:
        return (await self.many(session, [viewer], now))[viewer.user_id]


#: Who leads the duty shift at a time (None: nobody rostered): the emergency feature's roster,
#: handed by the wiring to the board feature, which DMs them the morning briefing.
DutyLeader = Callable[[AsyncSession, datetime], Awaitable[str | None]]
