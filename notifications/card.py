"""A card as Matrix content: HTML that Element lays out (lists, a table) and a plain body that
reads well in a notification.

Element drops leading spaces and most line structure of a formatted body, so a card's layout is
said in HTML elements, never in indentation. The plain body is what a phone's notification and
a client without HTML show: the same lines, lists with "•" or "1.", a table as its header
line `接收人：送达 / 已读` and a line per row `赵处长：✔ / …`. People are written as Matrix IDs
in the parts and shown by name (`notifications.names`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from notifications.names import Names, mentions
from records import outbox

# A list item: a line, or a line with the lines under it (a step and its approvers).
Item = str | tuple[str, Sequence[str]]


@dataclass(frozen=True)
class Items:
    """A list: numbered when `ordered`."""

    items: Sequence[Item]
    ordered: bool = False


@dataclass(frozen=True)
class Table:
    """Rows under a header; the first column names the row (a person)."""

    head: Sequence[str]
    rows: Sequence[Sequence[str]]


Block = str | Items | Table


@dataclass(frozen=True)
class Card:
    """A title line, then fields, lists and tables in order (docs/messages.md, section 5)."""

    title: str
    blocks: Sequence[Block] = field(default_factory=tuple)

    def body(self, names: Names) -> str:
        lines = [names.plain(self.title)]
        for block in self.blocks:
            lines.extend(_plain(block, names))
        return "\n".join(lines)

    def html(self, names: Names) -> str:
        parts = [f"<p><b>{names.html(self.title)}</b></p>"]
        parts.extend(_html(block, names) for block in self.blocks)
        return "".join(parts)

    def content(self, names: Names, *, msgtype: str = "m.notice", mention: Iterable[str] = ()) -> dict[str, Any]:
        """The card as Matrix content (JSON, hence Any), mentioning exactly `mention`."""
        content = outbox.text_content(self.body(names), self.html(names), msgtype=msgtype)
        content["m.mentions"] = mentions(mention)
        return content


def _plain(block: Block, names: Names) -> list[str]:
    if isinstance(block, str):
        return [names.plain(block)]
    if isinstance(block, Table):
        colon = ": " if block.head[0].isascii() else "："
        head = f"{block.head[0]}{colon}{' / '.join(block.head[1:])}"
        rows = (f"{names.plain(row[0])}{colon}{' / '.join(names.plain(c) for c in row[1:])}" for row in block.rows)
        return [head, *rows]
    out = []
    for number, item in enumerate(block.items, start=1):
        line, under = (item, ()) if isinstance(item, str) else item
        out.append(f"{number}. {names.plain(line)}" if block.ordered else f"• {names.plain(line)}")
        out.extend(f"    {names.plain(sub)}" for sub in under)
    return out


def _html(block: Block, names: Names) -> str:
    if isinstance(block, str):
        return f"<p>{names.html(block)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{names.html(cell)}</th>" for cell in block.head)
        rows = "".join("<tr>" + "".join(f"<td>{names.html(cell)}</td>" for cell in row) + "</tr>" for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    tag = "ol" if block.ordered else "ul"
    items = []
    for item in block.items:
        line, under = (item, ()) if isinstance(item, str) else item
        nested = "<ul>" + "".join(f"<li>{names.html(sub)}</li>" for sub in under) + "</ul>" if under else ""
        items.append(f"<li>{names.html(line)}{nested}</li>")
    return f"<{tag}>{''.join(items)}</{tag}>"
