"""The worker side of `notify()`: the "push.send" timer encrypts and sends a notice's pushes.

One timer per notice sends every queued delivery through one `WebPushSender` (one session
and one VAPID token per push service, bounded concurrency). The sender retries a little in
process; what still fails with a retryable error (429, 5xx, network) goes back to the timer,
which runs again later with back-off, until the notice's TTL ends. A 404/410 deletes the
subscription, and nothing else does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
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

PENDING = ("queued", "retrying")
FINAL_FAILURES = ("gone", "failed", "rejected", "too_large", "invalid", "expired")
_STATUS = {
    OutcomeKind.DELIVERED: "delivered",
    OutcomeKind.GONE: "gone",
    OutcomeKind.TOO_LARGE: "too_large",
    OutcomeKind.REJECTED: "rejected",
    OutcomeKind.INVALID: "invalid",
    OutcomeKind.FAILED: "failed",
}
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
    """What the send timer needs from the outside world, resolved when it runs."""

    sender_factory: Callable[[], WebPushSender]
    defaults: Defaults = field(default_factory=Defaults)

    @classmethod
    def from_settings(cls, settings: Settings) -> PushRuntime:
        return cls(lambda: sender_from(settings.push), Defaults.of(settings))


def _round_delay(round_no: int, retry_after: float | None) -> float:
    delay = float(min(ROUND_MAX, ROUND_BASE * 2 ** max(0, round_no - 1)))
    return max(delay, retry_after or 0.0)


async def send_notice(
    db: Database, notice_id: int, runtime: PushRuntime, clock: Clock, *, round_no: int = 1
) -> datetime | None:
    """Send the pending pushes of one notice; returns when to try again, or None when done.

    Three short steps, so that no transaction is open while the push services answer:
    read what is pending, send, then record the outcomes.
    """
    async with db.transaction() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            return None
        now = clock.now()
        rows = list(
            await session.execute(
                select(Delivery, PushSubscription)
                .outerjoin(PushSubscription, Delivery.subscription_id == PushSubscription.id)
                .where(Delivery.notice_id == notice_id, Delivery.channel == "push", Delivery.status.in_(PENDING))
                .order_by(Delivery.id)
            )
        )
        if not rows:
            return None
        expired = now >= as_utc(notice.expires_at)
        work: list[tuple[int, int]] = []  # (delivery id, subscription id)
        items: list[PushItem] = []
        topic = topic_header(notice.topic)
        remaining = max(1, int((as_utc(notice.expires_at) - now).total_seconds()))
        for delivery, sub in rows:
            delivery.updated_at = now
            if sub is None:
                delivery.status, delivery.detail = "gone", "the subscription was removed"
            elif expired:
                delivery.status, delivery.detail = "expired", "the notice's TTL ended before it could be sent"
                push_metrics.count(sub.endpoint, "expired")
            else:
                work.append((delivery.id, sub.id))
                items.append(
                    PushItem(
                        Subscription(sub.endpoint, sub.p256dh, sub.auth),
                        render(notice, delivery.lang, topic=topic),
                        ttl=remaining,
                        urgency=notice.urgency,
                        topic=topic,
                    )
                )

    outcomes: list[SendOutcome] = []
    if items:
        async with runtime.sender_factory() as sender:
            outcomes = await sender.send_many(items)

    retry_at: datetime | None = None
    async with db.transaction() as session:
        notice = await session.get(Notice, notice_id)
        if notice is None:
            return None
        now = clock.now()
        gone: set[int] = set()
        for (delivery_id, sub_id), item, outcome in zip(work, items, outcomes, strict=True):
            found = await session.get(Delivery, delivery_id)
            if found is None:
                continue
            when = _record(found, await session.get(PushSubscription, sub_id), outcome, notice, now, round_no)
            push_metrics.count(item.subscription.endpoint, found.status)
            if found.status == "gone":
                gone.add(sub_id)
                found.subscription_id = None
            if when is not None:
                retry_at = when if retry_at is None else min(retry_at, when)
        for sub_id in gone:
            dead = await session.get(PushSubscription, sub_id)
            if dead is not None:
                await session.delete(dead)
        await session.flush()
        await _fallback_dms(session, notice, runtime.defaults, now)
    outbox.wake_relay()
    return retry_at


def _record(
    delivery: Delivery, sub: PushSubscription | None, outcome: SendOutcome, notice: Notice, now: datetime, round_no: int
) -> datetime | None:
    delivery.attempts += outcome.attempts
    delivery.status_code = outcome.status
    delivery.detail = outcome.detail[:500] or None
    delivery.updated_at = now
    delivery.status = _STATUS[outcome.kind]
    if outcome.kind is OutcomeKind.DELIVERED:
        delivery.delivered_at = now
        if sub is not None:
            sub.last_ok_at = now
        return None
    if outcome.kind is OutcomeKind.FAILED:
        again = now + timedelta(seconds=_round_delay(round_no, outcome.retry_after))
        if again < as_utc(notice.expires_at):
            delivery.status = "retrying"
            return again
    return None


async def _fallback_dms(session: AsyncSession, notice: Notice, defaults: Defaults, now: datetime) -> None:
    """Under dm="auto", a person none of whose pushes can arrive gets the notice as a DM."""
    if notice.dm != "auto":
        return
    rows = list(await session.scalars(select(Delivery).where(Delivery.notice_id == notice.id)))
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
        again = await send_notice(db, int(timer.payload["notice_id"]), runtime(), clock, round_no=round_no)
        if again is None:
            return None
        timer.payload = {**timer.payload, "round": round_no + 1}
        return Fired(again_at=again)

    return handle
