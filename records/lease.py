"""A database lease so that only one bot instance per Matrix account is active."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from records.clock import Clock
from records.db import Database
from records.models import Lease


async def acquire(
    db: Database,
    name: str,
    holder: str,
    ttl: timedelta,
    clock: Clock,
    *,
    may_take: Callable[[str], bool] | None = None,
) -> bool:
    """Take or renew the lease; False while someone else holds an unexpired one.

    `may_take(other)` says that an unexpired lease held by `other` is in fact ours to take at
    once: left by an earlier run of this same instance, which died without releasing it.
    Waiting for it to expire would leave nobody answering meanwhile.
    """
    now = clock.now()
    async with db.transaction() as session:
        query = select(Lease).where(Lease.name == name)
        if not db.is_sqlite:
            query = query.with_for_update()
        lease = await session.scalar(query)
        if lease is None:
            # Two standbys starting together may both get here; the loser's insert fails on the
            # primary key and it simply does not hold the lease this round.
            try:
                async with session.begin_nested():
                    session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
            except IntegrityError:
                return False
            return True
        if lease.holder != holder and lease.expires_at > now and not (may_take is not None and may_take(lease.holder)):
            return False
        lease.holder = holder
        lease.expires_at = now + ttl
        return True


async def release(db: Database, name: str, holder: str) -> None:
    async with db.transaction() as session:
        lease = await session.get(Lease, name)
        if lease is not None and lease.holder == holder:
            await session.delete(lease)


async def held_until(db: Database, name: str) -> datetime | None:
    """When the lease `name` runs out (None: nobody holds it), so a standby can wake just then."""
    async with db.reading() as session:
        lease = await session.get(Lease, name)
    return None if lease is None else lease.expires_at
