"""How the board reads in chat: one compact card (text and HTML) from a Board.

"all" is the whole picture (`!全局`); "mine" keeps only what waits for the viewer (items they may
act on); "brief" (the morning briefing) keeps the emergency and duty sections whole, and of the
others what waits for the viewer and what went late.
"""

from __future__ import annotations

from typing import Literal

from bot.i18n import Translator
from commands.board.service import Board
from commands.board.texts import render
from commands.board_section import Item, Section
from notifications.names import Names, ids_in
from timeparse import format_when

Mode = Literal["all", "mine", "brief"]
#: Sections the briefing keeps whole: the night's incidents and who is on duty.
WHOLE_IN_BRIEF = ("emergency", "duty")
#: Items shown per section in a card; the rest are counted ("另有 3 项") and are on the web board.
PER_SECTION = 5


def _whole(section: Section, mode: Mode) -> bool:
    return mode == "all" or (mode == "brief" and section.key in WHOLE_IN_BRIEF)


def _kept(section: Section, mode: Mode) -> tuple[Item, ...]:
    if _whole(section, mode):
        return section.items
    if mode == "brief":
        return tuple(i for i in section.items if i.actions or i.late)
    return tuple(i for i in section.items if i.actions)


def _item_line(item: Item) -> str:
    mark = "🔴" if item.late else "•"
    head = f"{mark} {item.ref} {item.title}" if item.ref else f"{mark} {item.title}"
    # The first line says the most (the step, the deadline, the next report); the rest is on the board.
    detail = next((line for line in item.lines if line), "")
    return f"{head} · {detail}" if detail else head


def card_lines(board: Board, mode: Mode, t: Translator, title: str | None = None) -> list[str]:
    lang = board.viewer.lang
    when = format_when(board.at, tz=board.viewer.tz, lang=lang, now=board.at)
    lines = [title or t(f"board.card.title_{mode}", when=when)]
    shown = 0
    for section in board.sections:
        items = _kept(section, mode)
        facts = section.lines if _whole(section, mode) else ()
        if not items and not facts:
            continue
        late = sum(1 for item in items if item.late)
        header = t("board.card.section", title=section.title) + (t("board.card.late", count=late) if late else "")
        lines.append(header)
        lines.extend(facts)
        lines.extend(_item_line(item) for item in items[:PER_SECTION])
        if len(items) > PER_SECTION:
            lines.append(t("board.card.more", count=len(items) - PER_SECTION))
        shown += len(items)
    if not shown and mode != "all":
        lines.append(t("board.card.nothing"))
    return lines


def card(
    board: Board, mode: Mode, *, title: str | None = None, hint: str | None = None, names: Names | None = None
) -> tuple[str, str]:
    """The card's plain body and its HTML (section headers in bold); with ``names``, people read
    as their display names in the body and as pills in the HTML (docs/messages.md)."""
    lang = board.viewer.lang

    def t(key: str, /, **params: object) -> str:
        return render(key, lang, **params)

    lines = card_lines(board, mode, t, title)
    if hint:
        lines.append(hint)
    names = names or Names()
    parts = []
    for number, line in enumerate(lines):
        shown = names.html(line)
        bold = number == 0 or line.startswith(("【", "["))
        parts.append(f"<b>{shown}</b>" if bold else shown)
    return "\n".join(names.plain(line) for line in lines), "<br>".join(parts)


def people_in(board: Board) -> list[str]:
    """Everyone the board's texts name, to look their display names up once."""
    texts = [line for section in board.sections for line in section.lines]
    texts += [line for section in board.sections for item in section.items for line in (item.title, *item.lines)]
    return ids_in(*texts)
