"""Checks of single config values that need more than a number range.

Each function returns the value (normalised) or raises ValueError with a message that says what
is expected; `records.config` turns that into one line naming the key.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

# Counts, sizes and durations. A negative value is always a typo; where zero would stall a loop
# or refuse everything, the least is 1 (or, for seconds, anything above 0).
NonNegative = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
PositiveSeconds = Annotated[float, Field(gt=0)]
NonNegativeSeconds = Annotated[float, Field(ge=0)]
Port = Annotated[int, Field(ge=1, le=65535)]
Grade = Annotated[int, Field(ge=1, le=4)]

# HMAC-SHA256 keys shorter than this are guessable offline from one signed cookie.
MIN_SECRET_CHARS = 32

# @localpart:server, where server is a DNS name, IPv4 or [IPv6] literal with an optional port
# (Matrix spec, "User Identifiers" and "Server Name").
_MATRIX_USER = re.compile(r"@[^\s:]+:(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")
_HOST_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?")


def secret_key(value: str) -> str:
    """Empty (the server makes a per-process key and warns) or at least 32 characters."""
    if value and len(value) < MIN_SECRET_CHARS:
        raise ValueError(
            f"is {len(value)} characters; use at least {MIN_SECRET_CHARS} random ones "
            "(`zhiban init` writes one, or: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return value


def http_url(value: str) -> str:
    """An absolute http(s) URL with a host: links sent to people must open in a browser."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise ValueError(f"{value!r} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"must start with https:// (or http://) and name a host, e.g. https://zhiban.example.org; got {value!r}"
        )
    return value


def http_origin(value: str) -> str:
    """scheme://host[:port] of a web page, nothing more, as a browser writes it in `Origin`."""
    http_url(value)
    parts = urlsplit(value)
    if (
        parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", parts.netloc)
    ):
        raise ValueError(f"must be an origin only (scheme://host[:port]), e.g. https://app.element.io; got {value!r}")
    return f"{parts.scheme}://{parts.netloc}".lower()


def matrix_user_id(value: str) -> str:
    """A Matrix user id such as @zhiban:office.example."""
    if not _MATRIX_USER.fullmatch(value):
        raise ValueError(f"{value!r} is not a Matrix user id; write it as @name:server, e.g. @zhiban:office.example")
    return value


@cache
def _public_suffixes() -> Any:
    # Loaded on first use only: the list is a few hundred kB and most commands never need it.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def _labels_below_public_suffix(domain: str) -> int:
    suffix = _public_suffixes().publicsuffix(domain)
    if suffix is None:
        return 0
    return domain.count(".") - str(suffix).count(".")


def push_host_pattern(value: str) -> str:
    """An exact host, or ``*.`` and a domain at least two labels below its public suffix.

    ``*.notify.windows.com`` names one vendor's push service; ``*.com``, ``*.example.com`` or
    ``*.googleapis.com`` (itself a public suffix) would let a browser make the server post to
    hosts nobody chose: the allowlist is what stops request forgery.
    """
    host = value.strip().rstrip(".").lower()
    wildcard = host.startswith("*.")
    domain = host[2:] if wildcard else host
    labels = domain.split(".")
    if not domain or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{value!r} is not a host name; write e.g. fcm.googleapis.com or *.notify.windows.com")
    if wildcard and _labels_below_public_suffix(domain) < 2:
        raise ValueError(
            f"{value!r} is too broad: a wildcard must name one service's domain, "
            "e.g. *.notify.windows.com, not *.com or *.example.com"
        )
    return host


# One entry of push.allowed_hosts, checked on its own so that an error names its index.
PushHost = Annotated[str, AfterValidator(push_host_pattern)]
