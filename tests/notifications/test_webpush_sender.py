"""The async sender against the in-repo fake push service (loopback only)."""

from __future__ import annotations

import email.utils
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

# The fake lives next to this file; make it importable whatever pytest's import mode is.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from fake_push_service import FakePushService, FakeSubscription, Reply

from notifications.webpush import (
    Allowlist,
    EndpointNotAllowed,
    InvalidSubscriptionKeys,
    InvalidTopic,
    OutcomeKind,
    PayloadTooLarge,
    PushItem,
    RetryPolicy,
    Subscription,
    Urgency,
    VapidSigner,
    WebPushSender,
    check_subscription,
    generate_vapid_keys,
)
from notifications.webpush.crypto import MAX_PLAINTEXT

WALL_NOW = 1_800_000_000.0


class FakeTime:
    """Injected sleep + clocks: sleeping advances time instantly and is recorded."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []
        self.elapsed = 0.0

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.elapsed += delay

    def monotonic(self) -> float:
        return self.elapsed

    def wall(self) -> float:
        return WALL_NOW + self.elapsed


@pytest.fixture
async def push_service() -> AsyncIterator[FakePushService]:
    async with FakePushService() as svc:
        yield svc


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def signer() -> VapidSigner:
    return VapidSigner(generate_vapid_keys()[0], "mailto:ops@zhiban.example.org")


def _sender(signer: VapidSigner, fake_time: FakeTime, **kwargs: object) -> WebPushSender:
    return WebPushSender(
        signer,
        Allowlist(allow_insecure_loopback=True),
        sleep=fake_time.sleep,
        clock=fake_time.monotonic,
        wall_clock=fake_time.wall,
        rng=random.Random(7),
        **kwargs,  # type: ignore[arg-type]
    )


def _sub(fake: FakeSubscription) -> Subscription:
    return Subscription.from_json(fake.to_json())


async def test_round_trip_decrypts_with_valid_jwt_and_headers(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    payload = "审批：请假申请待处理 / leave request pending".encode()
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), payload, ttl=3600, urgency=Urgency.HIGH, topic="approval-42")
    assert outcome.kind is OutcomeKind.DELIVERED and outcome.status == 201 and outcome.attempts == 1
    assert push_service.errors == []
    [msg] = push_service.messages_for(fake)
    assert msg.plaintext == payload
    assert (msg.ttl, msg.urgency, msg.topic) == ("3600", "high", "approval-42")
    assert msg.headers["Content-Encoding"] == "aes128gcm"
    assert msg.jwt_claims["aud"] == push_service.origin
    assert msg.jwt_claims["sub"] == "mailto:ops@zhiban.example.org"


async def test_default_ttl_is_set_and_no_topic_header(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    async with _sender(signer, fake_time) as sender:
        assert (await sender.send(_sub(fake), b"x")).ok
    [msg] = push_service.messages_for(fake)
    assert msg.ttl == str(24 * 3600)
    assert msg.urgency == "normal"
    assert msg.topic is None and "Topic" not in msg.headers


async def test_empty_payload_is_sent_without_body(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    async with _sender(signer, fake_time) as sender:
        assert (await sender.send(_sub(fake), b"")).ok
    [msg] = push_service.messages_for(fake)
    assert msg.plaintext is None and "Content-Encoding" not in msg.headers


@pytest.mark.parametrize("status", [404, 410])
async def test_404_and_410_mean_gone(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime, status: int
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(status))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert outcome.kind is OutcomeKind.GONE and outcome.status == status
    assert outcome.should_delete_subscription
    assert outcome.attempts == 1 and fake_time.sleeps == []


async def test_unknown_endpoint_is_gone(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.forget(fake)
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert outcome.kind is OutcomeKind.GONE and outcome.status == 404


async def test_413_is_too_large_and_not_retried(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(413), Reply(201))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert outcome.kind is OutcomeKind.TOO_LARGE and outcome.attempts == 1
    assert len(push_service.attempts_for(fake)) == 1
    assert not outcome.should_delete_subscription


async def test_other_4xx_is_rejected_without_retry(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(400, body=b"bad header"))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert outcome.kind is OutcomeKind.REJECTED and outcome.status == 400
    assert "bad header" in outcome.detail
    assert len(push_service.attempts_for(fake)) == 1


async def test_429_retry_after_seconds_is_honoured(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(429, {"Retry-After": "7"}))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"hello", ttl=600)
    assert fake_time.sleeps == [7.0]
    assert outcome.kind is OutcomeKind.DELIVERED and outcome.attempts == 2
    [msg] = push_service.messages_for(fake)
    assert msg.plaintext == b"hello"
    assert msg.ttl == "593", "the retried message keeps its original expiry"


async def test_429_retry_after_http_date_is_honoured(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    when = email.utils.formatdate(WALL_NOW + 120, usegmt=True)
    push_service.script(fake, Reply(429, {"Retry-After": when}))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert fake_time.sleeps == [pytest.approx(120.0)]
    assert outcome.ok


async def test_5xx_retried_with_growing_backoff_then_delivered(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(500), Reply(502), Reply(503))
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=60.0)
    async with _sender(signer, fake_time, retry=policy) as sender:
        outcome = await sender.send(_sub(fake), b"payload")
    assert outcome.kind is OutcomeKind.DELIVERED and outcome.attempts == 4
    assert len(fake_time.sleeps) == 3
    for attempt, delay in enumerate(fake_time.sleeps, start=1):
        full = 1.0 * 2 ** (attempt - 1)
        assert full / 2 <= delay <= full, "equal jitter keeps the delay within [half, full] back-off"
    assert push_service.messages_for(fake)[0].plaintext == b"payload"


async def test_5xx_gives_up_after_max_attempts(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, *[Reply(500)] * 10)
    async with _sender(signer, fake_time, retry=RetryPolicy(max_attempts=3, base_delay=1.0)) as sender:
        outcome = await sender.send(_sub(fake), b"x")
    assert outcome.kind is OutcomeKind.FAILED and outcome.status == 500 and outcome.attempts == 3
    assert len(push_service.attempts_for(fake)) == 3
    assert len(fake_time.sleeps) == 2


async def test_retries_stop_at_the_ttl(push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, *[Reply(503)] * 20)
    policy = RetryPolicy(max_attempts=20, base_delay=4.0, max_delay=1000.0)
    async with _sender(signer, fake_time, retry=policy) as sender:
        outcome = await sender.send(_sub(fake), b"x", ttl=30)
    assert outcome.kind is OutcomeKind.FAILED
    assert "TTL" in outcome.detail
    assert sum(fake_time.sleeps) < 30
    assert 2 <= outcome.attempts < 20


async def test_retry_after_beyond_ttl_fails_without_waiting(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    push_service.script(fake, Reply(429, {"Retry-After": "120"}))
    async with _sender(signer, fake_time) as sender:
        outcome = await sender.send(_sub(fake), b"x", ttl=60)
    assert outcome.kind is OutcomeKind.FAILED and outcome.status == 429
    assert fake_time.sleeps == []


async def test_network_error_retried_then_failed(signer: VapidSigner, fake_time: FakeTime) -> None:
    async with FakePushService() as svc:
        sub = _sub(svc.create_subscription())
    # The service is gone now: connections are refused.
    async with _sender(signer, fake_time, retry=RetryPolicy(max_attempts=3, base_delay=0.5)) as sender:
        outcome = await sender.send(sub, b"x")
    assert outcome.kind is OutcomeKind.FAILED and outcome.status is None and outcome.attempts == 3
    assert len(fake_time.sleeps) == 2
    assert "ClientConnectorError" in outcome.detail or "Connect" in outcome.detail


async def test_allowlist_refusal_sends_nothing(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    strict = WebPushSender(signer, Allowlist(), sleep=fake_time.sleep)
    async with strict:
        with pytest.raises(EndpointNotAllowed, match="https"):
            await strict.send(_sub(fake), b"x")
        bad_host = Subscription("https://push.evil.example/x", fake.p256dh, fake.auth)
        with pytest.raises(EndpointNotAllowed, match="not a known push service"):
            await strict.send(bad_host, b"x")
    assert push_service.requests == []


async def test_invalid_keys_oversized_payload_and_bad_topic_refused(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    fake = push_service.create_subscription()
    async with _sender(signer, fake_time) as sender:
        with pytest.raises(InvalidSubscriptionKeys):
            await sender.send(Subscription(fake.endpoint, fake.p256dh[:-4], fake.auth), b"x")
        with pytest.raises(InvalidSubscriptionKeys):
            await sender.send(Subscription(fake.endpoint, fake.p256dh, "AAAA"), b"x")
        with pytest.raises(PayloadTooLarge):
            await sender.send(_sub(fake), b"x" * (MAX_PLAINTEXT + 1))
        for topic in ("has space", "x" * 33, "a+b", ""):
            with pytest.raises(InvalidTopic):
                await sender.send(_sub(fake), b"x", topic=topic)
        with pytest.raises(ValueError):
            await sender.send(_sub(fake), b"x", ttl=0)
        with pytest.raises(ValueError):
            await sender.send(_sub(fake), b"x", urgency="urgent")
        assert (await sender.send(_sub(fake), b"x" * MAX_PLAINTEXT, topic="A" * 32)).ok
    assert len(push_service.requests) == 1


async def test_jwt_cached_per_origin(signer: VapidSigner, fake_time: FakeTime) -> None:
    async with FakePushService() as one, FakePushService() as two:
        subs_one = [one.create_subscription() for _ in range(3)]
        subs_two = [two.create_subscription() for _ in range(3)]
        async with _sender(signer, fake_time) as sender:
            outcomes = await sender.send_many(PushItem(_sub(s), b"hi") for s in subs_one + subs_two)
            assert sorted(sender.origins) == sorted([one.origin, two.origin])
        assert all(o.ok for o in outcomes)
        assert one.errors == [] and two.errors == []
        assert signer.signatures_made == 2
        auth_one = {m.headers["Authorization"] for m in one.received}
        auth_two = {m.headers["Authorization"] for m in two.received}
        assert len(auth_one) == 1 and len(auth_two) == 1 and auth_one != auth_two
        assert {m.jwt_claims["aud"] for m in one.received} == {one.origin}
        assert {m.jwt_claims["aud"] for m in two.received} == {two.origin}


async def test_fake_service_rejects_a_jwt_for_another_origin(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    """Guards the fake itself: a token minted for another origin must not pass."""
    fake = push_service.create_subscription()
    wrong = signer.authorization("https://fcm.googleapis.com/x")
    with pytest.raises(Exception, match="aud"):
        push_service.verify_vapid(wrong)
    good = signer.authorization(fake.endpoint)
    tampered = good.replace("vapid t=", "vapid t=x", 1)
    with pytest.raises(Exception, match=r"malformed|signature"):
        push_service.verify_vapid(tampered)


async def test_send_many_keeps_order_and_isolates_bad_items(
    push_service: FakePushService, signer: VapidSigner, fake_time: FakeTime
) -> None:
    good = [push_service.create_subscription() for _ in range(20)]
    dead = push_service.create_subscription()
    push_service.script(dead, Reply(410))
    items = [PushItem(_sub(s), f"msg {i}".encode(), urgency="low") for i, s in enumerate(good)]
    items.insert(5, PushItem(_sub(dead), b"x"))
    items.insert(9, PushItem(Subscription("http://example.com/x", good[0].p256dh, good[0].auth), b"x"))
    items.append(PushItem(_sub(good[0]), b"y" * (MAX_PLAINTEXT + 1)))
    async with _sender(signer, fake_time, max_in_flight=4) as sender:
        outcomes = await sender.send_many(items)
    assert [o.endpoint for o in outcomes] == [i.subscription.endpoint for i in items]
    assert outcomes[5].kind is OutcomeKind.GONE
    assert outcomes[9].kind is OutcomeKind.INVALID and "https" in outcomes[9].detail
    assert outcomes[-1].kind is OutcomeKind.TOO_LARGE
    assert sum(o.ok for o in outcomes) == 20
    for i, s in enumerate(good):
        [msg] = push_service.messages_for(s)
        assert msg.plaintext == f"msg {i}".encode() and msg.urgency == "low"


async def test_in_flight_bounded_and_connections_reused(signer: VapidSigner, fake_time: FakeTime) -> None:
    async with FakePushService(response_delay=0.01) as svc:
        subs = [svc.create_subscription() for _ in range(24)]
        async with _sender(signer, fake_time, max_in_flight=3) as sender:
            outcomes = await sender.send_many(PushItem(_sub(s), b"x") for s in subs)
            again = await sender.send(_sub(subs[0]), b"x")
        assert all(o.ok for o in outcomes) and again.ok
        assert svc.max_in_flight_seen == 3, "the semaphore caps concurrent requests"
        assert len(svc.peers) <= 3, "one session per origin keeps and reuses its connections"
        assert len(svc.received) == 25


async def test_check_subscription_at_subscribe_time(push_service: FakePushService) -> None:
    fake = push_service.create_subscription()
    loopback = Allowlist(allow_insecure_loopback=True)
    assert check_subscription(_sub(fake), loopback) == _sub(fake)
    with pytest.raises(EndpointNotAllowed):
        check_subscription(_sub(fake), Allowlist())
    with pytest.raises(InvalidSubscriptionKeys):
        check_subscription(Subscription(fake.endpoint, "BAAA", fake.auth), loopback)
    with pytest.raises(ValueError):
        Subscription.from_json({"endpoint": fake.endpoint})
