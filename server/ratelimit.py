"""Rate limits: a token bucket per client address and per signed-in person, in process.

Each copy of the server keeps its own buckets, so behind a load balancer with N copies a
client may get up to N times the configured rate (docs/security.md). That still bounds what
one address or one person can make the server do (database writes, pushes, guesses at
sign-in links); the figures are per minute in `[server]`.

The client address is the connection's peer; uvicorn replaces it by the X-Forwarded-For
client when the peer is a trusted proxy (127.0.0.1, or FORWARDED_ALLOW_IPS).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from starlette.types import ASGIApp, Receive, Scope, Send

from records.clock import Clock
from records.config import ServerSettings
from server.errors import ApiError

# Buckets kept per limit before idle ones are forgotten (a full bucket is the same as none).
MAX_KEYS = 20_000


@dataclass
class TokenBucket:
    """`per_minute` requests a minute, with bursts up to the same number."""

    per_minute: int
    clock: Clock
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """Spend one token for `key`: 0 when allowed, else the seconds until one is available."""
        now = self.clock.now().timestamp()
        rate = self.per_minute / 60.0
        tokens, last = self._buckets.get(key, (float(self.per_minute), now))
        tokens = min(float(self.per_minute), tokens + max(0.0, now - last) * rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate
        if key not in self._buckets and len(self._buckets) >= MAX_KEYS:
            self._forget_idle(now, rate)
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    def _forget_idle(self, now: float, rate: float) -> None:
        full = [k for k, (t, last) in self._buckets.items() if t + (now - last) * rate >= self.per_minute]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:
            # Under a flood of distinct addresses: start over rather than grow without bound.
            self._buckets.clear()


@dataclass
class Limits:
    """The server's buckets: per address (API, sign-in page, step-up pages, push gateway) and
    per person."""

    api_address: TokenBucket
    api_user: TokenBucket
    signin_address: TokenBucket
    gateway_address: TokenBucket
    stepup_address: TokenBucket

    @classmethod
    def create(cls, settings: ServerSettings, clock: Clock) -> Limits:
        return cls(
            api_address=TokenBucket(settings.api_requests_per_minute, clock),
            api_user=TokenBucket(settings.api_requests_per_minute, clock),
            signin_address=TokenBucket(settings.signin_requests_per_minute, clock),
            gateway_address=TokenBucket(settings.gateway_requests_per_minute, clock),
            stepup_address=TokenBucket(settings.stepup_requests_per_minute, clock),
        )

    def for_path(self, path: str) -> TokenBucket | None:
        """The per-address bucket of a path; None for what is not limited (page, static files, health)."""
        if path.startswith(("/api/push", "/api/board")) and path != "/api/board/widget-session":
            return self.api_address
        # A widget's sign-in asks the homeserver each time: limited as sign-in links are.
        if path.startswith(("/push/signin", "/push/signout", "/api/board/widget-session")):
            return self.signin_address
        if path.startswith("/_matrix/push/"):
            return self.gateway_address
        # Registering, removing and using authenticators, and confirmation links (guessed at).
        if path == "/security" or path.startswith(("/security/", "/confirm/")):
            return self.stepup_address
        return None

    def charge_user(self, user_id: str) -> None:
        wait = self.api_user.take(user_id)
        if wait:
            raise too_many(wait)


def too_many(wait: float) -> ApiError:
    return ApiError(
        429,
        "rate_limited",
        "too many requests; try again in a moment",
        headers={"Retry-After": str(max(1, math.ceil(wait)))},
    )


class PerAddressLimit:
    """ASGI middleware: one token per request from the client's address, before any work."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = getattr(scope.get("app"), "state", None) if scope["type"] == "http" else None
        push = getattr(state, "push", None)
        bucket = push.limits.for_path(scope.get("path", "")) if push is not None else None
        if bucket is not None:
            client = scope.get("client")
            wait = bucket.take(client[0] if client else "-")
            if wait:
                error = too_many(wait)
                body = json.dumps({"error": error.code, "message": error.message}).encode()
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                headers += [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
                await send({"type": "http.response.start", "status": 429, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
