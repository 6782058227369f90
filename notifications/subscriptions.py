"""Subscriptions of signed-in browsers, and the list of notices a person received."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.models import Delivery, Notice, PushSubscription
from notifications.notice import pick
from notifications.webpush import Allowlist, Subscription, check_subscription
from notifications.webpush.errors import EndpointNotAllowed
from records.clock import Clock

MAX_ENDPOINT = 1024
MAX_PER_USER = 20


class EndpointTaken(ValueError):
    """The endpoint is another person's subscription, and the poster did not prove it is theirs."""


async def subscribe(
    session: AsyncSession,
    user_id: str,
    sub: Subscription,
    *,
    allowlist: Allowlist,
    clock: Clock,
    user_agent: str | None = None,
) -> tuple[PushSubscription, bool]:
    """Store (or take over) a browser's subscription; returns (row, created).

    Raises EndpointNotAllowed, InvalidSubscriptionKeys or EndpointTaken (all ValueError).
    """
    if len(sub.endpoint) > MAX_ENDPOINT:
        raise EndpointNotAllowed(f"push endpoint is longer than {MAX_ENDPOINT} characters")
    check_subscription(sub, allowlist)
    row = await session.scalar(select(PushSubscription).where(PushSubscription.endpoint == sub.endpoint))
    now = clock.now()
    ua = (user_agent or "")[:255] or None
    if row is not None:
        if row.user_id != user_id and (row.p256dh, row.auth) != (sub.p256dh, sub.auth):
            # An endpoint is not a secret (it travels to the push service and to pushers), so
            # knowing one must not move someone's pushes to the poster's keys. Only the same
            # browser, which holds the subscription's auth secret, may pass it to another person.
            raise EndpointTaken("this push endpoint is subscribed by someone else")
        # The same browser again (new keys after a re-subscribe, or another person signed in on it).
        row.user_id, row.p256dh, row.auth, row.user_agent = user_id, sub.p256dh, sub.auth, ua
        await session.flush()
        return row, False
    count = await session.scalar(select(func.count()).where(PushSubscription.user_id == user_id))
    if (count or 0) >= MAX_PER_USER:
        oldest = await session.scalar(
            select(PushSubscription).where(PushSubscription.user_id == user_id).order_by(PushSubscription.id).limit(1)
        )
        if oldest is not None:
            await session.delete(oldest)
    row = PushSubscription(
        user_id=user_id, endpoint=sub.endpoint, p256dh=sub.p256dh, auth=sub.auth, user_agent=ua, created_at=now
    )
    session.add(row)
    await session.flush()
    return row, True


async def list_for(session: AsyncSession, user_id: str) -> list[PushSubscription]:
    rows = await session.scalars(
        select(PushSubscription).where(PushSubscription.user_id == user_id).order_by(PushSubscription.id)
    )
    return list(rows)


async def unsubscribe(session: AsyncSession, user_id: str, subscription_id: int) -> bool:
    """Delete one of the person's own subscriptions; False when there is no such one of theirs."""
    row = await session.get(PushSubscription, subscription_id)
    if row is None or row.user_id != user_id:
        return False
    await session.delete(row)
    await session.flush()
    return True


async def unsubscribe_endpoint(session: AsyncSession, user_id: str, endpoint: str) -> bool:
    row = await session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint, PushSubscription.user_id == user_id)
    )
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True


@dataclass(frozen=True)
class RecentNotice:
    id: int
    kind: str
    title: str
    body: str
    url: str | None
    created_at: datetime
    status: str


# The better of two statuses a person's devices reached, for the page's list.
_RANK = {"delivered": 0, "dm": 1, "chat": 1, "queued": 2, "sending": 2, "retrying": 3, "skipped_quiet": 4}
# What the page calls a status: a push a worker is sending right now is still "sending" (queued).
_SHOWN = {"sending": "queued"}


async def recent_notices(session: AsyncSession, user_id: str, lang: str, *, limit: int = 20) -> list[RecentNotice]:
    """The person's last notices, newest first, with the best delivery status among their devices.

    The page is signed in, so sensitive notices show their content here.
    """
    return (await recent_notices_of(session, {user_id: lang}, limit=limit))[user_id]


# People asked about in one statement: within every database's limit of bound values.
_PEOPLE_AT_ONCE = 500


async def recent_notices_of(
    session: AsyncSession, langs: Mapping[str, str], *, limit: int = 20
) -> dict[str, list[RecentNotice]]:
    """`recent_notices` of many people at once (person -> their language), in two statements
    however many they are: an office-wide notice changes the list of everyone it reached."""
    # Each person's deliveries of their last `limit` notices: one row per device, so the rank
    # is dense (a notice on two devices is one notice).
    statuses: dict[str, dict[int, str]] = {user: {} for user in langs}
    people = list(langs)
    for start in range(0, len(people), _PEOPLE_AT_ONCE):
        rank = func.dense_rank().over(partition_by=Delivery.user_id, order_by=Delivery.notice_id.desc()).label("rank")
        ranked = (
            select(Delivery.user_id, Delivery.notice_id, Delivery.status, rank)
            .where(Delivery.user_id.in_(people[start : start + _PEOPLE_AT_ONCE]))
            .subquery()
        )
        for user_id, notice_id, status in await session.execute(
            select(ranked.c.user_id, ranked.c.notice_id, ranked.c.status).where(ranked.c.rank <= limit)
        ):
            best = statuses[user_id]
            current = best.get(notice_id)
            if current is None or _RANK.get(status, 9) < _RANK.get(current, 9):
                best[notice_id] = status
    ids = {notice_id for best in statuses.values() for notice_id in best}
    notices = {n.id: n for n in await session.scalars(select(Notice).where(Notice.id.in_(ids)))} if ids else {}
    return {
        user: [
            RecentNotice(
                id=n.id,
                kind=n.kind,
                title=pick(n.title, langs[user]),
                body=pick(n.body, langs[user]),
                url=n.url,
                created_at=n.created_at,
                status=_SHOWN.get(status, status),
            )
            for notice_id, status in sorted(best.items(), reverse=True)
            if (n := notices.get(notice_id)) is not None
        ]
        for user, best in statuses.items()
    }
