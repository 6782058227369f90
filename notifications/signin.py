"""One-time sign-in links: `!push` makes one, the browser that opens it is signed in.

Only a hash of the token is stored. A link works once and expires after a few minutes.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import SignInLink
from records.clock import Clock, as_utc

TOKEN_BYTES = 32


class SignInError(Exception):
    """The link cannot sign anyone in; `reason` is "unknown", "expired" or "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create_link(session: AsyncSession, user_id: str, *, minutes: int, clock: Clock) -> str:
    """Store a new link for `user_id` and return its secret token (to put in the URL)."""
    now = clock.now()
    # Old links are of no use to anyone; keep the table small.
    await session.execute(delete(SignInLink).where(SignInLink.expires_at < now - timedelta(days=1)))
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        SignInLink(
            token_hash=token_hash(token), user_id=user_id, created_at=now, expires_at=now + timedelta(minutes=minutes)
        )
    )
    await session.flush()
    return token


async def peek(session: AsyncSession, token: str, *, clock: Clock) -> str:
    """Who the link is for, without using it up; raises SignInError like `redeem`."""
    link = await _find(session, token)
    _check(link, clock)
    return link.user_id


async def redeem(session: AsyncSession, token: str, *, clock: Clock) -> str:
    """Use the link up and return its user id; a second use, or a late one, raises SignInError."""
    link = await _find(session, token, for_update=True)
    _check(link, clock)
    link.used_at = clock.now()
    await session.flush()
    return link.user_id


async def _find(session: AsyncSession, token: str, *, for_update: bool = False) -> SignInLink:
    if not token or len(token) > 128:
        raise SignInError("unknown")
    query = select(SignInLink).where(SignInLink.token_hash == token_hash(token))
    if for_update:
        query = query.with_for_update()
    link = await session.scalar(query)
    if link is None:
        raise SignInError("unknown")
    return link


def _check(link: SignInLink, clock: Clock) -> None:
    if link.used_at is not None:
        raise SignInError("used")
    if clock.now() >= as_utc(link.expires_at):
        raise SignInError("expired")
