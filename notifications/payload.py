"""The JSON a device receives: small, in the reader's language, and never over the limit."""

from __future__ import annotations

import json
from typing import Any

from notifications.models import Notice
from notifications.notice import pick
from notifications.texts import text
from notifications.webpush import MAX_PLAINTEXT

# The page's own list of notices, where a sensitive item can be read after signing in.
PAGE_PATH = "/push/"


def local_path(url: Any) -> str | None:
    """`url` when it is a path on this server; None for anything a tap could take elsewhere.

    "//host/x" and "/\\host/x" are other sites to a browser, and a scheme ("javascript:",
    "https:") is never a local path.
    """
    if not isinstance(url, str) or not url.startswith("/") or len(url) > 1024:
        return None
    if url.startswith("//") or "\\" in url or any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        return None
    return url


def _encode(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def fit(data: dict[str, Any], field: str = "body", limit: int = MAX_PLAINTEXT) -> bytes:
    """Encode `data`, shortening `data[field]` (by characters, with "…") until it fits."""
    raw = _encode(data)
    value = str(data.get(field) or "")
    while len(raw) > limit and value:
        # Cut in proportion to the overflow; UTF-8 Chinese is 3 bytes a character.
        excess = len(raw) - limit
        value = value[: max(0, len(value) - max(1, excess // 3 + 1))]
        data = {**data, field: value + "…"}
        raw = _encode(data)
    return raw


def render(notice: Notice, lang: str, *, topic: str | None) -> bytes:
    """The push payload for one reader. A sensitive notice carries no title, body or link."""
    if notice.sensitive:
        title = text("push.sensitive.title", lang)
        body = text("push.sensitive.body", lang)
        url = PAGE_PATH
    else:
        title = pick(notice.title, lang)
        body = pick(notice.body, lang)
        url = notice.url or PAGE_PATH
    data: dict[str, Any] = {
        "id": notice.id,
        "kind": notice.kind,
        "title": title,
        "body": body,
        "url": url,
        "ts": int(notice.created_at.timestamp() * 1000),
    }
    if topic:
        data["tag"] = topic  # the service worker replaces a shown notification with the same tag
    if len(title) > 200:
        data["title"] = title[:199] + "…"
    return fit(data)
