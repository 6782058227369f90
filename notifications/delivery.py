"""The worker side of `notify()`: the "push.send" timer encrypts and sends a notice's pushes.

One timer per notice sends every queued delivery through one `WebPushSender` (one session
and one VAPID token per push service, bounded concurrency). The sender retries a little in
process; what still fails with a retryable error (429, 5xx, network) goes back to the timer,
which runs again later with back-off, until the notice's TTL ends. A 404/410 deletes the
subscription, and nothing else does.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar, cast

from sqlalchemy import Table, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import push_metrics
from notifications.models import Delivery, Notice, PushSubscription
from notifications.notice import topic_header
from notifications.payload import render
from notifications.service import Defaults, send_dm
from notifications.webpush import (
    Allowlist,
    OutcomeKind,
    PushItem,
    RetryPolicy,
    SendOutcome,
    Subscription,
    VapidSigner,
    WebPushSender,
)
from records import outbox
from records.clock import Clock, as_utc
from records.db import Database
from records.models import Timer
from records.timers import Fired, IOTimerHandler

if TYPE_CHECKING:
    from records.config import PushSettings, Settings

T = TypeVar("T")

PENDING = ("queued", "retrying")
# Taken by a run that is sending it; shown as "queued". Taken again only when the run that took
# it has surely died (longer than a part's send with its in-process retries can take).
SENDING = "sending"
SENDING_LEASE = timedelta(minutes=5)
FINAL_FAILURES = ("gone", "failed", "rejected", "too_large", "invalid", "expired")
_STATUS = {
    OutcomeKind.DELIVERED: "delivered",
    OutcomeKind.GONE: "gone",
    OutcomeKind.TOO_LARGE: "too_large",
    OutcomeKind.REJECTED: "rejected",
    OutcomeKind.INVALID: "invalid",
    OutcomeKind.FAILED: "failed",
}
UNSENT_DETAIL = {
    "gone": "the subscription was removed",
    "expired": "the notice's TTL ended before it could be sent",
}
# Ids per IN (…) list when outcomes are recorded: well below SQLite's and asyncpg's limits.
IN_CHUNK = 500
# Durable back-off between timer rounds: 30 s, 1 min, 2 min … at most 10 min.
ROUND_BASE = 30
ROUND_MAX = 600


def allowlist_from(push: PushSettings) -> Allowlist:
    return Allowlist(push.allowed_hosts, allow_insecure_loopback=push.allow_insecure_loopback)


def sender_from(push: PushSettings) -> WebPushSender:
    """A sender configured by the settings; raises InvalidVapidConfig when keys are missing."""
    return WebPushSender(
        VapidSigner(push.vapid_private_key, push.vapid_subject),
        allowlist_from(push),
        max_in_flight=push.max_in_flight,
        timeout=push.send_timeout_seconds,
        retry=RetryPolicy(max_attempts=push.retry_attempts, max_delay=push.retry_max_delay_seconds),
    )


@dataclass
class PushRuntime:
    """What the send timer needs from the outside world, resolved when it runs.

    `keep_sender`: one sender per event loop for the process's lifetime (the worker's), so its
    kept-alive TLS connections and VAPID tokens serve every notice instead of being opened
    again for each; otherwise a fresh sender per run, closed after it.
    """

    sender_factory: Callable[[], WebPushSender]
    defaults: Defaults = field(default_factory=Defaults)
    keep_sender: bool = False
    _senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WebPushSender] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> PushRuntime:
        return cls(lambda: sender_from(settings.push), Defaults.of(settings), keep_sender=True)

    @asynccontextmanager
    async def sender(self) -> AsyncIterator[WebPushSender]:
        if not self.keep_sender:
            async with self.sender_factory() as sender:
                yield sender
            return
        loop = asyncio.get_running_loop()
        kept = self._senders.get(loop)
        if kept is None:
            kept = self._senders[loop] = self.sender_factory()
            _kept_senders.setdefault(loop, []).append(kept)
        yield kept


# Every kept sender, by loop, for `close_kept_senders` when the worker stops.
_kept_senders: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[WebPushSender]] = weakref.WeakKeyDictionary()


async def close_kept_senders() -> None:
    """Close the senders kept in this loop (their TLS connections), as the worker stops."""
    for sender in _kept_senders.pop(asyncio.get_running_loop(), []):
        await sender.close()


def _round_delay(round_no: int, retry_after: float | None) -> float:
    delay = float(min(ROUND_MAX, ROUND_BASE * 2 ** max(0, round_no - 1)))
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class _Work:
    """A delivery being sent, as read before sending (the timer holds the notice's claim)."""

    delivery_id: int
    subscription_id: int
    attempts: int
    endpoint: str
    user_id: str


async def send_notice(
    db: Database,
    notice_id: int,
    runtime: PushRuntime,
    clock: Clock,
    *,
    round_no: int = 1,
    deliveries: tuple[int, int] | None = None,
) -> datetime | None:
    """Send the pending pushes of one notice; returns when to try again, or None when done.

    `deliveries` (first id, last id) limits the run to one part of a large fan-out, which
    notify() splits over several timers so that the workers share it.

    Three short steps, so that no transaction is open while the push services answer: take
    what is pending (marked "sending", so that a second run of the same part, should the
    timer's claim lapse meanwhile, finds nothing to send twice), send, then record the
    outcomes (in bulk: one statement per kind of change and per chunk, not two look-ups per
    message).
    """
    async with db.transaction() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            return None
        now = clock.now()
        # Another run may be sending some of this part (a second run of the same timer, whose
        # claim lapsed while the first ran): this one looks again once that run's take lapses,
        # so that what a run which died meanwhile left is not forgotten.
        busy = await _sending_elsewhere(session, notice_id, deliveries, now)
        taken = await _take(session, notice_id, deliveries, now)
        if not taken:
            # On PostgreSQL the take may have waited for a concurrent run's take to commit:
            # that run's deliveries are visible only now.
            busy = await _sending_elsewhere(session, notice_id, deliveries, now)
        look_again = None if busy is None else as_utc(busy) + SENDING_LEASE
        rows = await _pending_rows(session, taken)
    if not rows:
        return look_again
    expires_at = as_utc(notice.expires_at)
    expired = now >= expires_at
    work: list[_Work] = []
    items: list[PushItem] = []
    unsent: list[tuple[str, int, str]] = []  # (user, delivery id, status): nothing to send to
    topic = topic_header(notice.topic)
    remaining = max(1, int((expires_at - now).total_seconds()))
    payloads: dict[str, bytes] = {}  # the same notice in the same language renders the same
    for delivery_id, user_id, attempts, lang, sub_id, endpoint, p256dh, auth in rows:
        if sub_id is None or endpoint is None or p256dh is None or auth is None:  # its device is gone
            unsent.append((user_id, delivery_id, "gone"))
        elif expired:
            unsent.append((user_id, delivery_id, "expired"))
            push_metrics.count(endpoint, "expired")
        else:
            work.append(_Work(delivery_id, sub_id, attempts, endpoint, user_id))
            payload = payloads.get(lang)
            if payload is None:
                payload = payloads[lang] = render(notice, lang, topic=topic)
            items.append(
                PushItem(
                    Subscription(endpoint, p256dh, auth),
                    payload,
                    ttl=remaining,
                    urgency=notice.urgency,
                    topic=topic,
                )
            )
    dm_auto = notice.dm == "auto"

    outcomes: list[SendOutcome] = []
    if items:
        async with runtime.sender() as sender:
            outcomes = await sender.send_many(items)

    now = clock.now()
    changes = [(w, _outcome_change(w, o, expires_at, now, round_no)) for w, o in zip(work, outcomes, strict=True)]
    retry_at = min((at for at in [look_again, *(c.retry_at for _, c in changes)] if at is not None), default=None)
    async with db.transaction() as session:
        await _mark_unsent(session, unsent, now)
        await _record_outcomes(session, changes, now)
        if dm_auto:
            await _fallback_dms(session, notice_id, runtime.defaults, now, _without_push(unsent, changes))
    push_metrics.count_many((w.endpoint, change.status) for w, change in changes)
    outbox.wake_relay()
    return retry_at


async def _take(session: AsyncSession, notice_id: int, deliveries: tuple[int, int] | None, now: datetime) -> list[int]:
    """Mark the part's pending deliveries (and those a run that died left "sending") as sent by
    this run; their ids. One UPDATE … RETURNING, however many they are."""
    query = (
        update(Delivery)
        .where(
            Delivery.notice_id == notice_id,
            Delivery.channel == "push",
            or_(
                Delivery.status.in_(PENDING),
                (Delivery.status == SENDING) & (Delivery.updated_at < now - SENDING_LEASE),
            ),
        )
        .values(status=SENDING, updated_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    if deliveries is not None:
        query = query.where(Delivery.id.between(*deliveries))
    return sorted(await session.scalars(query))


async def _sending_elsewhere(
    session: AsyncSession, notice_id: int, deliveries: tuple[int, int] | None, now: datetime
) -> datetime | None:
    """When another run took the oldest delivery of the part it is still sending, if any."""
    query = select(func.min(Delivery.updated_at)).where(
        Delivery.notice_id == notice_id,
        Delivery.channel == "push",
        Delivery.status == SENDING,
        Delivery.updated_at >= now - SENDING_LEASE,
    )
    if deliveries is not None:
        query = query.where(Delivery.id.between(*deliveries))
    return await session.scalar(query)


_PendingRow = tuple[int, str, int, str, int | None, str | None, str | None, str | None]


async def _pending_rows(session: AsyncSession, ids: list[int]) -> list[_PendingRow]:
    """The taken deliveries with their subscriptions, as plain rows (a 10k fan-out spent much of
    its time building ORM instances)."""
    rows: list[_PendingRow] = []
    for chunk in _chunks(ids):
        query = (
            select(
                Delivery.id,
                Delivery.user_id,
                Delivery.attempts,
                Delivery.lang,
                PushSubscription.id,
                PushSubscription.endpoint,
                PushSubscription.p256dh,
                PushSubscription.auth,
            )
            .outerjoin(PushSubscription, Delivery.subscription_id == PushSubscription.id)
            .where(Delivery.id.in_(chunk))
            .order_by(Delivery.id)
        )
        rows.extend(cast(_PendingRow, tuple(row)) for row in await session.execute(query))
    return rows


async def _mark_unsent(session: AsyncSession, unsent: list[tuple[str, int, str]], now: datetime) -> None:
    """Deliveries with nothing to send to: their subscription is gone, or the notice's TTL ended."""
    for status, detail in UNSENT_DETAIL.items():
        ids = [delivery_id for _, delivery_id, kind in unsent if kind == status]
        for chunk in _chunks(ids):
            await session.execute(
                update(Delivery).where(Delivery.id.in_(chunk)).values(status=status, detail=detail, updated_at=now),
                execution_options={"synchronize_session": False},
            )


def _without_push(unsent: list[tuple[str, int, str]], changes: list[tuple[_Work, _Change]]) -> list[str]:
    """The people of this run none of whose pushes in it arrived or will be tried again: only
    they may need the DM fallback (usually nobody, so a fan-out that went well reads nothing)."""
    failed = {user for user, _, _ in unsent}
    failed.update(w.user_id for w, change in changes if change.status in FINAL_FAILURES)
    hopeful = {w.user_id for w, change in changes if change.status not in FINAL_FAILURES}
    return sorted(failed - hopeful)


@dataclass(frozen=True)
class _Change:
    values: dict[str, object]
    retry_at: datetime | None = None

    @property
    def status(self) -> str:
        return str(self.values["status"])


def _outcome_change(w: _Work, outcome: SendOutcome, expires_at: datetime, now: datetime, round_no: int) -> _Change:
    """The delivery's new columns after `outcome`, and when to try again (a retryable failure)."""
    values: dict[str, object] = {
        "attempts": w.attempts + outcome.attempts,
        "status_code": outcome.status,
        "detail": outcome.detail[:500] or None,
        "updated_at": now,
        "status": _STATUS[outcome.kind],
        "delivered_at": now if outcome.kind is OutcomeKind.DELIVERED else None,
    }
    if outcome.kind is OutcomeKind.FAILED:
        again = now + timedelta(seconds=_round_delay(round_no, outcome.retry_after))
        if again < expires_at:
            values["status"] = "retrying"
            return _Change(values, again)
    return _Change(values)


_deliveries = cast(Table, Delivery.__table__)
_UPDATE_DELIVERY = (
    update(_deliveries)
    .where(_deliveries.c.id == bindparam("delivery_id"))
    .values(
        attempts=bindparam("attempts"),
        status_code=bindparam("status_code"),
        detail=bindparam("detail"),
        updated_at=bindparam("updated_at"),
        status=bindparam("status"),
        delivered_at=bindparam("delivered_at"),
    )
)


async def _record_outcomes(session: AsyncSession, changes: list[tuple[_Work, _Change]], now: datetime) -> None:
    """Write every delivery's outcome with one executemany; mark the subscriptions that worked and
    delete those the push service said are gone (404/410, and only those), IN-chunk by chunk."""
    if not changes:
        return
    await session.execute(_UPDATE_DELIVERY, [{"delivery_id": w.delivery_id, **change.values} for w, change in changes])
    working = [w.subscription_id for w, change in changes if change.status == "delivered"]
    gone = sorted({w.subscription_id for w, change in changes if change.status == "gone"})
    for chunk in _chunks(working):
        await session.execute(
            update(PushSubscription).where(PushSubscription.id.in_(chunk)).values(last_ok_at=now),
            execution_options={"synchronize_session": False},
        )
    for chunk in _chunks(gone):
        # The deliveries keep their record; only the dead subscription goes (its other
        # deliveries lose the link, as the foreign key's SET NULL would do).
        await session.execute(
            update(Delivery).where(Delivery.subscription_id.in_(chunk)).values(subscription_id=None),
            execution_options={"synchronize_session": False},
        )
        await session.execute(
            delete(PushSubscription).where(PushSubscription.id.in_(chunk)),
            execution_options={"synchronize_session": False},
        )


def _chunks(ids: list[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


async def _fallback_dms(
    session: AsyncSession, notice_id: int, defaults: Defaults, now: datetime, people: list[str]
) -> None:
    """Under dm="auto", a person (of `people`) none of whose pushes can arrive gets the notice as
    a DM. Read inside the write transaction, so two parts never both send the DM."""
    if not people:
        return
    notice = await session.get(Notice, notice_id)
    if notice is None:
        return
    rows: list[Delivery] = []
    for chunk in _chunks(people):
        rows.extend(
            await session.scalars(select(Delivery).where(Delivery.notice_id == notice.id, Delivery.user_id.in_(chunk)))
        )
    by_user: dict[str, list[Delivery]] = {}
    for delivery in rows:
        by_user.setdefault(delivery.user_id, []).append(delivery)
    for user_id, deliveries in by_user.items():
        push = [d for d in deliveries if d.channel == "push"]
        if any(d.channel == "dm" for d in deliveries) or not push:
            continue
        if all(d.status in FINAL_FAILURES for d in push):
            await send_dm(session, notice, user_id, push[0].lang, defaults.public_url, now)


def make_send_handler(runtime: Callable[[], PushRuntime]) -> IOTimerHandler:
    """The "push.send" timer handler (register with `register_io`); runs in the worker."""

    async def handle(db: Database, timer: Timer, clock: Clock) -> Fired | None:
        round_no = int(timer.payload.get("round", 1))
        part = timer.payload.get("deliveries")
        again = await send_notice(
            db,
            int(timer.payload["notice_id"]),
            runtime(),
            clock,
            round_no=round_no,
            deliveries=(int(part[0]), int(part[1])) if part else None,
        )
        if again is None:
            return None
        timer.payload = {**timer.payload, "round": round_no + 1}
        return Fired(again_at=again)

    return handle
