"""Which push endpoints we are willing to POST to.

A subscription's endpoint comes from a browser, i.e. from a user; without a
check the server could be made to send requests to any host (SSRF). Only
https URLs on the default port whose host matches a known push service are
accepted. Plain-http loopback URLs (the in-repo fake push service) have to be
switched on explicitly with ``allow_insecure_loopback=True``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from notifications.webpush.errors import EndpointNotAllowed

__all__ = ["DEFAULT_PUSH_HOSTS", "Allowlist"]

DEFAULT_PUSH_HOSTS: tuple[str, ...] = (
    "fcm.googleapis.com",  # Chrome, Edge on Android, Opera, Samsung Internet
    "updates.push.services.mozilla.com",  # Firefox
    "web.push.apple.com",  # Safari / iOS home-screen apps
    "*.push.apple.com",
    "*.notify.windows.com",  # Edge on Windows (WNS)
)

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Allowlist:
    """Host patterns of accepted push services.

    A pattern is an exact host (``fcm.googleapis.com``) or ``*.`` followed by a
    domain, which matches any host *below* that domain but not the domain itself
    (``*.push.apple.com`` matches ``api.push.apple.com``).
    """

    def __init__(
        self,
        hosts: Iterable[str] = DEFAULT_PUSH_HOSTS,
        *,
        allow_insecure_loopback: bool = False,
    ) -> None:
        self._exact: set[str] = set()
        self._suffixes: list[str] = []
        for pattern in hosts:
            pattern = _normalise_host(pattern)
            if pattern.startswith("*."):
                self._suffixes.append(pattern[1:])  # keep the dot: ".push.apple.com"
            elif "*" in pattern or not pattern:
                raise ValueError(f"unsupported host pattern {pattern!r}: use 'host' or '*.domain'")
            else:
                self._exact.add(pattern)
        self.allow_insecure_loopback = allow_insecure_loopback

    def host_allowed(self, host: str) -> bool:
        """Whether ``host`` matches one of the patterns (ignores the loopback switch)."""
        host = _normalise_host(host)
        return host in self._exact or any(host.endswith(s) and len(host) > len(s) for s in self._suffixes)

    def check(self, endpoint: str) -> str:
        """Return ``endpoint`` if it may be pushed to, else raise ``EndpointNotAllowed``."""
        try:
            parts = urlsplit(endpoint)
            port = parts.port
        except ValueError as exc:
            raise EndpointNotAllowed(f"push endpoint is not a valid URL: {exc}") from exc
        host = _normalise_host(parts.hostname or "")
        if not host:
            raise EndpointNotAllowed(f"push endpoint has no host: {endpoint!r}")
        if parts.username is not None or parts.password is not None:
            raise EndpointNotAllowed("push endpoint must not carry user credentials")
        if not host.isascii():
            raise EndpointNotAllowed(f"push endpoint host {host!r} is not ASCII")
        if self.allow_insecure_loopback and _is_loopback(host) and parts.scheme in ("http", "https"):
            return endpoint
        if parts.scheme != "https":
            raise EndpointNotAllowed(f"push endpoint must use https, not {parts.scheme or 'no scheme'!r}")
        if port not in (None, 443):
            raise EndpointNotAllowed(f"push endpoint must use the default https port, not {port}")
        if not self.host_allowed(host):
            raise EndpointNotAllowed(f"push endpoint host {host!r} is not a known push service")
        return endpoint

    def is_allowed(self, endpoint: str) -> bool:
        """Boolean form of ``check``."""
        try:
            self.check(endpoint)
        except EndpointNotAllowed:
            return False
        return True
