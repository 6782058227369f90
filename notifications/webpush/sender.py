"""Async Web Push sender (RFC 8030 + RFC 8291 + RFC 8292) built for fan-out.

Why it is fast: one ``aiohttp.ClientSession`` (and so one pool of kept-alive
connections) per push-service origin, one cached VAPID token per origin, and
a semaphore instead of a thread per request. Why it is safe: endpoints must
pass the allowlist, redirects are not followed, every message has a TTL and
an overall timeout, and retries stop at the message's TTL.

Outcome policy: 2xx delivered; 404/410 gone (the caller deletes the
subscription, and only then); 413 too_large (never retried); 429 honours
``Retry-After``; 5xx and network errors are retried with exponential back-off
and jitter while the message is still alive; any other status is rejected.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import TracebackType
from typing import Any

import aiohttp

from notifications.webpush.allowlist import Allowlist
from notifications.webpush.crypto import (
    MAX_PLAINTEXT,
    encrypt_message,
    validate_subscription_keys,
)
from notifications.webpush.errors import (
    InvalidTopic,
    PayloadTooLarge,
    PushValidationError,
)
from notifications.webpush.vapid import VapidSigner, endpoint_origin

__all__ = [
    "DEFAULT_TTL",
    "MAX_TTL",
    "OutcomeKind",
    "PreparedPush",
    "PushItem",
    "RetryPolicy",
    "SendOutcome",
    "Subscription",
    "Urgency",
    "WebPushSender",
    "check_subscription",
    "validate_topic",
]

DEFAULT_TTL = 24 * 3600
MAX_TTL = 28 * 24 * 3600
"""FCM's ceiling (4 weeks); longer values are clamped by services anyway."""

_TOPIC_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class Urgency(StrEnum):
    """RFC 8030 §5.3 ``Urgency`` header values."""

    VERY_LOW = "very-low"
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


class OutcomeKind(StrEnum):
    DELIVERED = "delivered"
    GONE = "gone"
    """404/410: the subscription is dead; delete it."""
    TOO_LARGE = "too_large"
    REJECTED = "rejected"
    """Another 4xx (or 3xx): not retried; usually a configuration problem."""
    FAILED = "failed"
    """5xx / 429 / network errors until attempts or the TTL ran out."""
    INVALID = "invalid"
    """Only from ``send_many``: the item failed validation before sending."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """A browser ``PushSubscription``: endpoint URL plus base64url ``p256dh`` and ``auth``."""

    endpoint: str
    p256dh: str
    auth: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Subscription:
        """Build from ``PushSubscription.toJSON()``: ``{"endpoint", "keys": {"p256dh", "auth"}}``."""
        try:
            keys = data["keys"]
            return cls(endpoint=str(data["endpoint"]), p256dh=str(keys["p256dh"]), auth=str(keys["auth"]))
        except (KeyError, TypeError) as exc:
            raise PushValidationError(f"not a PushSubscription JSON object: missing {exc}") from exc

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True, slots=True)
class SendOutcome:
    kind: OutcomeKind
    endpoint: str
    status: int | None = None
    """Last HTTP status, ``None`` if no response was ever received."""
    attempts: int = 0
    detail: str = ""
    """Short human-readable reason for logs (never shown to chat users)."""
    retry_after: float | None = None
    """Seconds a 429/503 asked us to wait, when that was too long to wait in process:
    a durable caller (the delivery timer) reschedules by it instead."""

    @property
    def ok(self) -> bool:
        return self.kind is OutcomeKind.DELIVERED

    @property
    def should_delete_subscription(self) -> bool:
        return self.kind is OutcomeKind.GONE


@dataclass(frozen=True, slots=True)
class PushItem:
    """One message for ``send_many``."""

    subscription: Subscription
    payload: bytes
    ttl: int = DEFAULT_TTL
    urgency: Urgency | str = Urgency.NORMAL
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    """Total tries including the first one."""
    base_delay: float = 1.0
    max_delay: float = 300.0
    """Cap for back-off and for honoured ``Retry-After`` values."""


@dataclass(slots=True)
class PreparedPush:
    """A validated, encrypted message ready for ``WebPushSender.deliver``."""

    endpoint: str
    body: bytes
    authorization: str
    ttl: int
    urgency: str
    topic: str | None
    extra: dict[str, str] = field(default_factory=dict)


def check_subscription(sub: Subscription, allowlist: Allowlist) -> Subscription:
    """Refuse a subscription at subscribe time: endpoint allowed and keys well-formed.

    Raises ``EndpointNotAllowed`` or ``InvalidSubscriptionKeys``; returns ``sub``.
    """
    allowlist.check(sub.endpoint)
    validate_subscription_keys(sub.p256dh, sub.auth)
    return sub


def validate_topic(topic: str) -> str:
    """RFC 8030 §5.4: at most 32 characters of the URL-safe base64 alphabet."""
    if not _TOPIC_RE.fullmatch(topic):
        raise InvalidTopic(f"topic must be 1-32 characters of [A-Za-z0-9_-], got {topic!r}")
    return topic


def _parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` as delay-seconds or an HTTP-date; ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


class WebPushSender:
    """Send encrypted Web Push messages; use as ``async with WebPushSender(...) as sender``.

    ``sleep``, ``clock`` (monotonic seconds, for TTL accounting), ``wall_clock``
    (Unix seconds, for HTTP-date ``Retry-After``) and ``rng`` (jitter) are
    injectable so tests can check retry timing without waiting.
    """

    def __init__(
        self,
        vapid: VapidSigner,
        allowlist: Allowlist,
        *,
        max_in_flight: int = 100,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        user_agent: str = "zhiban-webpush/1",
    ) -> None:
        if max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        self._vapid = vapid
        self._allowlist = allowlist
        self._max_in_flight = max_in_flight
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._user_agent = user_agent
        self._semaphore = asyncio.Semaphore(max_in_flight)
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._closed = False

    async def __aenter__(self) -> WebPushSender:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every per-origin session (and its kept-alive connections)."""
        self._closed = True
        sessions, self._sessions = list(self._sessions.values()), {}
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)

    @property
    def origins(self) -> list[str]:
        """Push-service origins that currently have an open session."""
        return list(self._sessions)

    def _session_for(self, origin: str) -> aiohttp.ClientSession:
        session = self._sessions.get(origin)
        if session is None or session.closed:
            if self._closed:
                raise RuntimeError("WebPushSender is closed")
            connector = aiohttp.TCPConnector(limit=self._max_in_flight, ttl_dns_cache=300)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=self._timeout,
                cookie_jar=aiohttp.DummyCookieJar(),  # push services set no cookies we want
                auto_decompress=False,
                headers={"User-Agent": self._user_agent},
            )
            self._sessions[origin] = session
        return session

    def prepare(
        self,
        sub: Subscription,
        payload: bytes,
        *,
        ttl: int = DEFAULT_TTL,
        urgency: Urgency | str = Urgency.NORMAL,
        topic: str | None = None,
    ) -> PreparedPush:
        """Validate everything and encrypt; raises a ``PushValidationError`` subclass on bad input."""
        self._allowlist.check(sub.endpoint)
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
            raise PushValidationError(f"ttl must be an int in [1, {MAX_TTL}] seconds, got {ttl!r}")
        try:
            urgency_value = Urgency(urgency).value
        except ValueError as exc:
            raise PushValidationError(f"urgency must be one of {[u.value for u in Urgency]}") from exc
        if topic is not None:
            validate_topic(topic)
        if len(payload) > MAX_PLAINTEXT:
            raise PayloadTooLarge(
                f"payload is {len(payload)} bytes; at most {MAX_PLAINTEXT} bytes fit one push message"
            )
        ua_public, auth_secret = validate_subscription_keys(sub.p256dh, sub.auth)
        body = encrypt_message(payload, ua_public, auth_secret) if payload else b""
        return PreparedPush(
            endpoint=sub.endpoint,
            body=body,
            authorization=self._vapid.authorization(sub.endpoint),
            ttl=ttl,
            urgency=urgency_value,
            topic=topic,
        )

    async def send(
        self,
        sub: Subscription,
        payload: bytes,
        *,
        ttl: int = DEFAULT_TTL,
        urgency: Urgency | str = Urgency.NORMAL,
        topic: str | None = None,
    ) -> SendOutcome:
        """Encrypt and deliver one message, retrying as the module docstring describes.

        Raises ``EndpointNotAllowed``, ``InvalidSubscriptionKeys``,
        ``PayloadTooLarge``, ``InvalidTopic`` or ``PushValidationError`` before
        any network traffic; network trouble never raises, it becomes an outcome.
        """
        prepared = self.prepare(sub, payload, ttl=ttl, urgency=urgency, topic=topic)
        return await self.deliver(prepared)

    async def send_many(self, items: Iterable[PushItem]) -> list[SendOutcome]:
        """Send many messages concurrently (bounded by ``max_in_flight``); outcomes in input order.

        Unlike ``send``, validation errors do not raise: they become
        ``OutcomeKind.INVALID`` outcomes so one bad subscription cannot sink a batch.
        """
        return list(await asyncio.gather(*(self._send_item(item) for item in items)))

    async def _send_item(self, item: PushItem) -> SendOutcome:
        try:
            prepared = self.prepare(
                item.subscription, item.payload, ttl=item.ttl, urgency=item.urgency, topic=item.topic
            )
        except PushValidationError as exc:
            kind = OutcomeKind.TOO_LARGE if isinstance(exc, PayloadTooLarge) else OutcomeKind.INVALID
            return SendOutcome(kind, item.subscription.endpoint, detail=str(exc))
        return await self.deliver(prepared)

    def _backoff(self, attempt: int) -> float:
        delay = min(self._retry.max_delay, self._retry.base_delay * 2 ** (attempt - 1))
        # "Equal jitter": keeps at least half the back-off while de-synchronising retries.
        return delay / 2 + self._rng.random() * delay / 2

    async def deliver(self, p: PreparedPush) -> SendOutcome:
        """POST a prepared message, retrying within its TTL; never raises for network trouble."""
        origin = endpoint_origin(p.endpoint)
        started = self._clock()
        attempt = 0
        status: int | None = None
        while True:
            attempt += 1
            elapsed = self._clock() - started
            # Count time already spent so the message does not outlive its TTL across retries.
            remaining = p.ttl - int(elapsed)
            if remaining <= 0:
                return SendOutcome(OutcomeKind.FAILED, p.endpoint, status, attempt - 1, "TTL ran out")
            if attempt > 1:
                # The cached token may have been refreshed meanwhile; always send a live one.
                p.authorization = self._vapid.authorization(p.endpoint)
            headers = {"TTL": str(remaining), "Urgency": p.urgency, "Authorization": p.authorization}
            if p.body:
                headers["Content-Encoding"] = "aes128gcm"
                headers["Content-Type"] = "application/octet-stream"
            if p.topic is not None:
                headers["Topic"] = p.topic
            retry_after: str | None = None
            detail = ""
            try:
                async with self._semaphore:
                    session = self._session_for(origin)
                    async with session.post(p.endpoint, data=p.body, headers=headers, allow_redirects=False) as resp:
                        status = resp.status
                        retry_after = resp.headers.get("Retry-After")
                        text = await resp.read()
                        if status >= 300:
                            detail = text[:200].decode("utf-8", "replace")
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = None
                detail = f"{type(exc).__name__}: {exc}"

            if status is not None:
                if 200 <= status < 300:
                    return SendOutcome(OutcomeKind.DELIVERED, p.endpoint, status, attempt)
                if status in (404, 410):
                    return SendOutcome(OutcomeKind.GONE, p.endpoint, status, attempt, detail)
                if status == 413:
                    return SendOutcome(OutcomeKind.TOO_LARGE, p.endpoint, status, attempt, detail)
                if status != 429 and status < 500:
                    return SendOutcome(OutcomeKind.REJECTED, p.endpoint, status, attempt, detail)
                detail = detail or f"HTTP {status}"

            # Retryable: 429, 5xx, network error or timeout.
            if attempt >= self._retry.max_attempts:
                return SendOutcome(
                    OutcomeKind.FAILED,
                    p.endpoint,
                    status,
                    attempt,
                    f"gave up after {attempt} attempts: {detail}",
                )
            delay = _parse_retry_after(retry_after, self._wall_clock())
            if delay is None:
                delay = self._backoff(attempt)
            elif delay > self._retry.max_delay:
                return SendOutcome(
                    OutcomeKind.FAILED,
                    p.endpoint,
                    status,
                    attempt,
                    f"Retry-After {delay:.0f}s is too long",
                    retry_after=delay,
                )
            if self._clock() - started + delay >= p.ttl:
                return SendOutcome(
                    OutcomeKind.FAILED, p.endpoint, status, attempt, f"retry would outlive the TTL: {detail}"
                )
            await self._sleep(delay)
