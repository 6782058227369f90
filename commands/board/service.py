"""The board's data for one person: every feature's section, asked in the features' order.

``board_for`` is the one function the chat cards, the morning briefing and the web board read;
``Board.as_json()`` is what the web board serves::

    {"user": "@a:hs", "lang": "zh", "tz": "Asia/Shanghai", "now": "2026-12-03T08:30:00+08:00",
     "late": 2, "actionable": 3, "sections": [Section, ...]}

(``Section`` as in commands.board_section; ``late`` counts items past due, ``actionable`` the
items the viewer may act on.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Translator
from commands.board_section import BoardSection, Json, JsonValue, Section, Viewer, iso
from notifications import signin
from notifications.names import Names, ids_in
from records import audit, outbox
from records.clock import Clock
from records.config import Settings

#: The order sections are shown in, whatever order the features are listed in.
ORDER = ("emergency", "duty", "approvals", "tasks", "meetings", "notices")


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
            "now": iso(self.at, tz),
            "late": self.late,
            "actionable": self.actionable,
            "sections": [section.as_json(tz) for section in self.sections],
        }


async def board_for(session: AsyncSession, viewer: Viewer, now: datetime, sections: Sequence[BoardSection]) -> Board:
    """The board as ``viewer`` may see it at ``now``: each source scopes its own section.

    The sources run one after another: they share one session (one consistent read).
    """
    made = [await source(session, viewer, now) for source in sections]
    made.sort(key=lambda section: ORDER.index(section.key) if section.key in ORDER else len(ORDER))
    return Board(viewer=viewer, at=now, sections=tuple(made))


def splice(previous: Json, fresh: Json) -> Json:
    """``fresh``, a board read for some of its sections only, with the other sections kept as
    ``previous`` (the same person's board read before) had them, in the order it had them;
    the counts of the whole are counted again (as ``Board.late`` and ``Board.actionable``)."""
    renewed = {section["key"]: section for section in _sections(fresh)}
    sections = [renewed.pop(section["key"], section) for section in _sections(previous)]
    sections += renewed.values()
    items = [item for section in sections for item in _items(section)]
    return {
        **fresh,
        "late": sum(1 for item in items if item.get("late")),
        "actionable": sum(1 for item in items if item.get("actions")),
        "sections": list[JsonValue](sections),
    }


def people_in(board: Json) -> list[str]:
    """The Matrix IDs the board's texts name (a requester, an owner, who has not acknowledged)."""
    found: list[str] = []

    def keep(text: str) -> str:
        found.append(text)
        return text

    _rewrite(board, keep)
    return ids_in(*found)


def with_names(board: Json, names: Names) -> Json:
    """The board as a person reads it: every Matrix ID in its texts written as the person's
    display name, as the chat cards show them (the viewer's own `user` stays their ID)."""
    return _rewrite(board, names.plain)


def _rewrite(board: Json, text: Callable[[str], str]) -> Json:
    def texts(value: JsonValue) -> JsonValue:
        if isinstance(value, str):
            return text(value)
        if isinstance(value, list):
            return [texts(line) for line in value]
        return value

    def part(found: Json, fields: tuple[str, ...]) -> Json:
        return {name: texts(value) if name in fields else value for name, value in found.items()}

    sections: list[JsonValue] = []
    for section in _sections(board):
        items: list[JsonValue] = [part(item, ("title", "lines", "group")) for item in _items(section)]
        sections.append({**part(section, ("title", "lines", "empty")), "items": items})
    return {**board, "sections": sections}


def _sections(board: Json) -> list[Json]:
    found = board.get("sections")
    return [section for section in found if isinstance(section, dict)] if isinstance(found, list) else []


def _items(section: Json) -> list[Json]:
    found = section.get("items")
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


# -- chat: the card, the sign-in link ------------------------------------------------------------
#: Stands in for the link in the stored row; the relay puts the link in only when it sends.
LINK_PLACEHOLDER = "[sign-in link, removed from the record once sent]"
#: Where the sign-in link lands (the server's /board page).
BOARD_PATH = "/board"


def card_ref(mode: str, room_id: str, user: str, day: date) -> str:
    """One card per person, kind, room and day: asked again the same day, it is edited in place."""
    return f"board:{mode}:{day.isoformat()}:{room_id}:{user}"


async def edit_card(session: AsyncSession, ref: str, content: dict[str, object]) -> bool:
    """Replace the card already sent under ``ref`` (m.replace); False when there is none yet."""
    if await outbox.latest_with_ref(session, ref) is None:
        return False
    await outbox.enqueue_edit(session, ref, content)
    return True


def board_url(settings: Settings) -> str:
    return f"{settings.server.public_url.rstrip('/')}{BOARD_PATH}/"


#: Filled in by the Matrix client that shows the widget (Element's widget URL template variables).
WIDGET_QUERY = "widgetId=$matrix_widget_id&userId=$matrix_user_id&roomId=$matrix_room_id"


def widget_url(settings: Settings) -> str:
    """The board's widget page, which may be framed and signs in with the widget API's OpenID token."""
    return f"{settings.server.public_url.rstrip('/')}{BOARD_PATH}/widget?{WIDGET_QUERY}"


async def send_board_link(
    session: AsyncSession, user: str, *, settings: Settings, clock: Clock, text: Translator
) -> None:
    """A one-time sign-in link to the web board, by DM only (it signs in whoever opens it)."""
    minutes = settings.push.signin_link_minutes
    token = await signin.create_link(session, user, minutes=minutes, clock=clock)
    url = f"{settings.server.public_url.rstrip('/')}/push/signin/{token}?next={BOARD_PATH}"
    content = outbox.text_content(text("board.link.dm", minutes=minutes, url=LINK_PLACEHOLDER))
    await outbox.enqueue(session, content, to_user=user, secrets={LINK_PLACEHOLDER: url})
    await audit.record(session, actor=user, action="board.link", subject=user, clock=clock)
