"""What the push routes share: settings, database, clock, allowlist, rate limits, the gateway's sender."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from notifications.delivery import allowlist_from, sender_from
from notifications.webpush import Allowlist, VapidSigner, WebPushSender
from notifications.webpush.errors import InvalidVapidConfig
from records.clock import Clock
from records.config import Settings
from records.db import Database
from server.errors import ApiError
from server.ratelimit import Limits
from server.session import SessionSigner


@dataclass
class PushState:
    settings: Settings
    db: Database
    clock: Clock
    allowlist: Allowlist
    signer: SessionSigner
    limits: Limits
    sender_factory: Callable[[], WebPushSender] | None = None
    _sender: WebPushSender | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def create(cls, settings: Settings, db: Database, clock: Clock) -> PushState:
        signer = SessionSigner.from_secret(settings.server.secret_key, max_age=settings.server.session_days * 86400)
        return cls(settings, db, clock, allowlist_from(settings.push), signer, Limits.create(settings.server, clock))

    def public_key(self) -> str:
        push = self.settings.push
        if push.vapid_public_key:
            return push.vapid_public_key
        if push.vapid_private_key:
            try:
                return VapidSigner(push.vapid_private_key, push.vapid_subject).public_key
            except InvalidVapidConfig:
                pass
        raise ApiError(503, "push_not_configured", "push is not configured on this server (no VAPID key)")

    async def sender(self) -> WebPushSender:
        """One sender per server process (shared sessions and VAPID tokens), made on first use."""
        async with self._lock:
            if self._sender is None:
                try:
                    factory = self.sender_factory or (lambda: sender_from(self.settings.push))
                    self._sender = factory()
                except InvalidVapidConfig as exc:
                    raise ApiError(503, "push_not_configured", f"push is not configured: {exc}") from None
            return self._sender

    async def close(self) -> None:
        if self._sender is not None:
            await self._sender.close()
            self._sender = None


def push_state(request: Request) -> PushState:
    state: PushState = request.app.state.push
    return state
