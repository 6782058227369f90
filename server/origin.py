"""Cross-site request refusal: every state-changing request must come from our own pages.

A SameSite=Lax cookie is not sent with another site's POST, but a sign-in link needs no
cookie at all: a hidden form on another site posting to `/push/signin/<attacker's token>`
would sign the victim's browser in as the attacker (login CSRF), and everything the victim
then subscribes would reach the attacker. So POST, PUT, PATCH and DELETE are refused when
the browser says they come from elsewhere:

- `Sec-Fetch-Site` (sent by current browsers) must be `same-origin` or `none` (typed or
  bookmarked by the user);
- otherwise `Origin`, when present, must be this server's own origin (`server.public_url`,
  or the origin the request was addressed to).

A request with neither header is not from a browser (curl, a homeserver), and carries no
victim's cookie, so it is let through. The push gateway is server to server and exempt.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_PREFIXES = ("/_matrix/push/",)
_FETCH_SITE_OK = frozenset({"same-origin", "none"})


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def origin_of(url: str) -> str:
    """scheme://host[:port] as a browser writes it in `Origin` (default port left out)."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower().removesuffix(_DEFAULT_PORTS.get(parts.scheme, "\0"))
    return f"{parts.scheme}://{netloc}".lower()


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers", [])}


def refusal(scope: Scope, own_origin: str) -> str | None:
    """Why this request must be refused as cross-site; None when it may go on."""
    if scope.get("method", "GET") in SAFE_METHODS or scope.get("path", "").startswith(EXEMPT_PREFIXES):
        return None
    headers = _headers(scope)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return None if fetch_site.lower() in _FETCH_SITE_OK else f"a {fetch_site} request cannot change anything here"
    origin = headers.get("origin")
    if origin is None:
        return None
    addressed = origin_of(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
    if origin.lower() in (own_origin, addressed):
        return None
    return "a request from another site cannot change anything here"


class SameOriginWrites:
    """ASGI middleware: 403 for state-changing requests that another site's page started."""

    def __init__(self, app: ASGIApp, public_url: str) -> None:
        self.app = app
        self.own_origin = origin_of(public_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        reason = refusal(scope, self.own_origin) if scope["type"] == "http" else None
        if reason is None:
            await self.app(scope, receive, send)
            return
        body = json.dumps({"error": "cross_site", "message": reason}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
