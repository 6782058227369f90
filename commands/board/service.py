"""The board's data for one person: every feature's section, asked in the features' order.

``board_for`` is the one function the chat cards, the morning briefing and the web board read;
``Board.as_json()`` is what the web board serves::

    {"user": "@a:hs", "lang": "zh", "tz": "Asia/Shanghai", "at": "2026-12-03T08:30:00+08:00",
     "late": 2, "actionable": 3, "sections": [Section, ...]}

(``Section`` as in commands.board_section; ``late`` counts items past due, ``actionable`` the
items the viewer may act on.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from commands.board_section import BoardSection, Json, Section, Viewer, iso


@dataclass(frozen=True)
class Board:
    viewer: Viewer
    at: datetime
    sections: tuple[Section, ...]

    @property
    def late(self) -> int:
        return sum(section.late for section in self.sections)

    @property
    def actionable(self) -> int:
        return sum(section.actionable for section in self.sections)

    def section(self, key: str) -> Section | None:
        return next((section for section in self.sections if section.key == key), None)

    def as_json(self) -> Json:
        tz = self.viewer.tz
        return {
            "user": self.viewer.user_id,
            "lang": self.viewer.lang,
            "tz": tz,
            "at": iso(self.at, tz),
            "late": self.late,
            "actionable": self.actionable,
            "sections": [section.as_json(tz) for section in self.sections],
        }


async def board_for(session: AsyncSession, viewer: Viewer, now: datetime, sections: Sequence[BoardSection]) -> Board:
    """The board as ``viewer`` may see it at ``now``: each source scopes its own section.

    The sources run one after another: they share one session (one consistent read).
    """
    made = [await source(session, viewer, now) for source in sections]
    return Board(viewer=viewer, at=now, sections=tuple(made))
