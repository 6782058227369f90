"""People shown by name: display names in the plain body, pills in the formatted body.

A text is written with Matrix IDs (`@zhao:office`), as the services know people; here every ID
in it becomes the person's display name in the plain body, and in the HTML a pill (a link to
`https://matrix.to/#/@zhao:office` whose text is the name), which Element and FluffyChat show as
the person. Names come from the office's records (`records.people.display_names`), which the
bot keeps from what the homeserver tells it; someone whose name is not known is shown by the
first part of their ID. Whom a message mentions (`m.mentions`) is the caller's choice: only
those who must act on it.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from records import people

_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")


def ids_in(*texts: str) -> list[str]:
    """The Matrix IDs the texts name, in order, without repeats."""
    return list(dict.fromkeys(user for text in texts for user in _MXID.findall(text)))


@dataclass(frozen=True)
class Names:
    """Display names of the people a message names (user ID → name)."""

    known: Mapping[str, str] = field(default_factory=dict)

    def of(self, user_id: str) -> str:
        """The person's display name, else the first part of their ID (`zhao`)."""
        name = self.known.get(user_id)
        return name if name else user_id[1:].split(":", 1)[0]

    def pill(self, user_id: str) -> str:
        """The person as a pill in a formatted body."""
        href = htmllib.escape(f"https://matrix.to/#/{user_id}")
        return f'<a href="{href}">{htmllib.escape(self.of(user_id), quote=False)}</a>'

    def plain(self, text: str) -> str:
        """`text` with every Matrix ID written as the person's name."""
        if "@" not in text:  # most cells of a card (a status, a time): no regex pass
            return text
        return _MXID.sub(lambda m: self.of(m.group(0)), text)

    def html(self, text: str) -> str:
        """`text` escaped for a formatted body, every Matrix ID a pill, line breaks kept."""
        if "@" not in text:  # most cells of a card (a status, a time): no regex pass
            return htmllib.escape(text, quote=False).replace("\n", "<br>")
        out: list[str] = []
        pos = 0
        for match in _MXID.finditer(text):
            out.append(htmllib.escape(text[pos : match.start()], quote=False))
            out.append(self.pill(match.group(0)))
            pos = match.end()
        out.append(htmllib.escape(text[pos:], quote=False))
        return "".join(out).replace("\n", "<br>")


async def names_for(session: AsyncSession, *texts: str, users: Iterable[str] = ()) -> Names:
    """The names of everyone `texts` name, and of `users`."""
    wanted = ids_in(*texts) + list(users)
    return Names(await people.display_names(session, wanted)) if wanted else Names()


def mentions(users: Iterable[str]) -> dict[str, Any]:
    """The `m.mentions` of a message that asks exactly `users` to act (none: an empty list,
    so that a client never guesses mentions from the body)."""
    return {"user_ids": list(dict.fromkeys(users))}
