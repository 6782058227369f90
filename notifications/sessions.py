"""Sessions of signed-in browsers, kept in the database so that ending one takes effect at once.

The cookie carries a random secret; only its SHA-256 is stored (as for sign-in links), so
reading the table signs nobody in. Every copy of the server reads the same table.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import PushSubscription, WebSession
from records.clock import Clock, as_utc

SECRET_BYTES = 32


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


async def start(
    session: AsyncSession,
    user_id: str,
    *,
    days: int = 0,
    clock: Clock,
    user_agent: str | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """Record a new signed-in browser for `user_id`; returns the secret to put in its cookie
    (or, for a widget, in its bearer token). It lasts `lifetime` when given, else `days`."""
    now = clock.now()
    # Expired sessions can never be used again; keep the table small.
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    session.add(
        WebSession(
            token_hash=secret_hash(secret),
            user_id=user_id,
            user_agent=(user_agent or "")[:255] or None,
            created_at=now,
            expires_at=now + (lifetime if lifetime is not None else timedelta(days=days)),
        )
    )
    await session.flush()
    return secret


async def find(session: AsyncSession, secret: str, *, clock: Clock) -> str | None:
    """The user of a live session with this secret; None when it ended, expired or never was."""
    if not secret or len(secret) > 128:
        return None
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == secret_hash(secret)))
    if row is None or clock.now() >= as_utc(row.expires_at):
        return None
    return row.user_id


async def end(session: AsyncSession, secret: str) -> str | None:
    """End one session (sign-out); returns its user, or None when there was none."""
    row = await session.scalar(select(WebSession).where(WebSession.token_hash == secret_hash(secret)))
    if row is None:
        return None
    await session.delete(row)
    await session.flush()
    return row.user_id


async def end_all(session: AsyncSession, user_id: str) -> int:
    """End every session of `user_id` (sign out everywhere, or an admin's revoke); returns how many."""
    count = await session.scalar(select(func.count()).select_from(WebSession).where(WebSession.user_id == user_id))
    await session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(count or 0)


async def end_others(session: AsyncSession, user_id: str, keep_hash: str) -> int:
    """End every session of `user_id` but the one whose secret hashes to `keep_hash`; returns how many."""
    others = (WebSession.user_id == user_id, WebSession.token_hash != keep_hash)
    count = await session.scalar(select(func.count()).select_from(WebSession).where(*others))
    await session.execute(delete(WebSession).where(*others))
    return int(count or 0)


async def end_everywhere(session: AsyncSession, user_id: str) -> tuple[int, int]:
    """Sign `user_id` out everywhere and turn push off on all their devices (a lost phone
    keeps receiving pushes through its subscription, signed in or not); returns (sessions, devices)."""
    ended = await end_all(session, user_id)
    devices = list(await session.scalars(select(PushSubscription).where(PushSubscription.user_id == user_id)))
    for row in devices:
        await session.delete(row)
    await session.flush()
    return ended, len(devices)


async def count_for(session: AsyncSession, user_id: str, *, clock: Clock) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(WebSession)
            .where(WebSession.user_id == user_id, WebSession.expires_at > clock.now())
        )
        or 0
    )
