"""Reading who a message names: pills, full Matrix IDs and short @names."""

from __future__ import annotations

import html as htmllib
import re

_PILL_LINK = re.compile(r'<a\s+href="https://matrix\.to/#/(@[^"?]+)[^"]*"\s*>.*?</a>', re.S | re.I)
_TAG = re.compile(r"<[^>]+>")
_MXID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
_SHORT = re.compile(r"(?<![\w@])@([A-Za-z0-9._=\-/+]+)(?![A-Za-z0-9._=\-/+:])")


def text_with_ids(body: str, html: str | None, default_server: str) -> str:
    """The message text with every mention written as a full Matrix ID.

    Clients put the display name in the body and the ID only in the HTML pill, so the
    pills are read first; `@chu` typed by hand becomes `@chu:<default_server>`.
    """
    if html:
        # A reply quotes the original inside <mx-reply>; only what follows it was written now.
        html = html.split("</mx-reply>", 1)[-1]
        text = _PILL_LINK.sub(lambda m: m.group(1).replace("%40", "@").replace("%3A", ":"), html)
        text = re.sub(r"<br\s*/?>", "\n", text, flags=re.I)
        text = htmllib.unescape(_TAG.sub("", text))
    else:
        text = body
    return _SHORT.sub(lambda m: f"@{m.group(1)}:{default_server}", text)


def user_ids_in(text: str) -> list[str]:
    """Matrix IDs in order of appearance, without repeats."""
    return list(dict.fromkeys(_MXID.findall(text)))
