"""The push server's defences, as an attacker or a careless client would meet them:
sessions that end when signed out, cross-site requests refused, subscriptions that cannot
be stolen, a gateway that is no open relay, private metrics and docs, rate limits, and
malformed input answered with 4xx rather than 500."""

from __future__ import annotations

import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from fake_push_service import FakePushService, FakeSubscription
from push_env import PUBLIC_URL, T0, make_settings
from server_env import USER, clock_fixture, fake_fixture, make_link, running_app, server_fixture, settings_fixture  # noqa: F401 - shared fixtures

from records.clock import FrozenClock
from records.config import Settings
from server.session import COOKIE

GATEWAY = "/_matrix/push/v1/notify"


def with_server(settings: Settings, **server: Any) -> Settings:
    return settings.model_copy(update={"server": settings.server.model_copy(update=server)})


def browser(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """Another browser (its own cookie jar), optionally from another address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=PUBLIC_URL)


async def sign_in(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, user: str = USER) -> str:
    done = await client.post(f"/push/signin/{await make_link(app, clock, user)}")
    assert done.status_code == 303, done.text
    return client.cookies[COOKIE]


# 2. Sessions end when signed out.


async def test_sign_out_makes_a_copied_cookie_worthless(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    cookie = await sign_in(app, client, clock)
    out = await client.post("/push/signout")
    assert out.status_code == 303 and COOKIE not in client.cookies
    client.cookies.set(COOKIE, cookie)  # a copy taken before (another tab, a stolen cookie)
    again = await client.get("/api/push/me")
    assert again.status_code == 401 and again.json()["error"] == "bad_session"


async def test_sign_out_everywhere_ends_every_browser_and_its_pushes(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, fake: FakePushService
) -> None:
    app, phone = server
    async with browser(app) as laptop, browser(app) as other_person:
        await sign_in(app, phone, clock)
        await sign_in(app, laptop, clock)
        await sign_in(app, other_person, clock, "@other:office.test")
        assert (await phone.post("/api/push/subscriptions", json=fake.create_subscription().to_json())).is_success
        assert (await laptop.post("/push/signout-all")).status_code == 303
        for client in (phone, laptop):
            assert (await client.get("/api/push/me")).status_code == 401
        assert (await other_person.get("/api/push/me")).status_code == 200, "other people stay signed in"
        await sign_in(app, phone, clock)
        assert (await phone.get("/api/push/subscriptions")).json()["subscriptions"] == [], "push is off too"


async def test_a_forged_session_row_does_not_sign_in_someone_else(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    # A validly signed cookie whose secret names no live session (e.g. made before a revoke).
    client.cookies.set(COOKIE, app.state.push.signer.sign(USER, int(T0.timestamp()), "not-a-session"))
    assert (await client.get("/api/push/me")).status_code == 401


# 4. Cross-site requests.

CROSS_SITE = [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_another_site_cannot_sign_a_browser_in(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, headers: dict[str, str]
) -> None:
    app, client = server
    token = await make_link(app, clock, "@attacker:office.test")
    forged = await client.post(f"/push/signin/{token}", headers=headers)
    assert forged.status_code == 403 and forged.json()["error"] == "cross_site"
    assert COOKIE not in client.cookies
    # The link is still unused: its owner can open it.
    mine = await client.post(f"/push/signin/{token}", headers={"Origin": PUBLIC_URL, "Sec-Fetch-Site": "same-origin"})
    assert mine.status_code == 303


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/push/test"),
        ("POST", "/push/signout"),
        ("POST", "/push/signout-all"),
        ("POST", "/api/push/subscriptions"),
        ("DELETE", "/api/push/subscriptions/1"),
    ],
)
async def test_cross_site_writes_are_refused(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, headers: dict[str, str], method: str, path: str
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    refused = await client.request(method, path, headers=headers)
    assert refused.status_code == 403, refused.text
    assert (await client.get("/api/push/me", headers=headers)).status_code == 200, "reading is not a write"
    same_site = await client.post("/api/push/test", headers={"Origin": PUBLIC_URL})
    # Let through: answered for what it is (no device to test yet), not refused as cross-site.
    assert same_site.status_code == 409 and same_site.json()["error"] == "no_device"


# 5. Subscriptions cannot be moved to someone else's keys.


async def test_someone_elses_endpoint_cannot_be_taken_over(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, fake: FakePushService
) -> None:
    app, victim = server
    leader = fake.create_subscription()
    await sign_in(app, victim, clock, "@leader:office.test")
    assert (await victim.post("/api/push/subscriptions", json=leader.to_json())).status_code == 201
    async with browser(app) as attacker:
        await sign_in(app, attacker, clock, "@attacker:office.test")
        own_keys = fake.create_subscription().to_json()
        stolen = await attacker.post("/api/push/subscriptions", json={**own_keys, "endpoint": leader.endpoint})
        assert stolen.status_code == 409 and stolen.json()["error"] == "endpoint_taken"
        assert (await attacker.get("/api/push/subscriptions")).json()["subscriptions"] == []
        # The same browser (same keys) signed in by another person does move on.
        shared = await attacker.post("/api/push/subscriptions", json=leader.to_json())
        assert shared.status_code == 200
    assert (await victim.get("/api/push/subscriptions")).json()["subscriptions"] == []


# 3. The gateway is not an open relay.


def gateway_device(sub: FakeSubscription, app_id: str = "zhiban.web", **data: Any) -> dict[str, Any]:
    return {"app_id": app_id, "pushkey": sub.p256dh, "data": {"endpoint": sub.endpoint, "auth": sub.auth, **data}}


def gateway_body(*devices: dict[str, Any]) -> dict[str, Any]:
    return {"notification": {"event_id": "$e", "room_id": "!r:x", "sender": "@a:x", "devices": list(devices)}}


async def test_gateway_serves_only_its_app_ids(
    server: tuple[FastAPI, httpx.AsyncClient], fake: FakePushService
) -> None:
    _, client = server
    ours, foreign = fake.create_subscription(), fake.create_subscription()
    body = gateway_body(gateway_device(ours), gateway_device(foreign, app_id="com.example.spam"))
    response = await client.post(GATEWAY, json=body)
    assert response.json() == {"rejected": [foreign.p256dh]}
    assert len(fake.messages_for(ours)) == 1 and fake.attempts_for(foreign) == []


async def test_gateway_serves_a_few_devices_per_request(
    server: tuple[FastAPI, httpx.AsyncClient], settings: Settings, fake: FakePushService
) -> None:
    _, client = server
    subs = [fake.create_subscription() for _ in range(40)]
    response = await client.post(GATEWAY, json=gateway_body(*(gateway_device(s) for s in subs)))
    limit = settings.push.gateway_max_devices
    assert sorted(response.json()["rejected"]) == sorted(s.p256dh for s in subs[limit:])
    assert sum(len(fake.attempts_for(s)) for s in subs) == limit


@pytest.mark.parametrize(
    ("url", "opened"),
    [
        ("https://evil.example/phish", "/push/"),
        ("//evil.example/phish", "/push/"),
        ("/\\evil.example", "/push/"),
        ("javascript:alert(1)", "/push/"),
        ("/push/#notice-3", "/push/#notice-3"),
    ],
)
async def test_gateway_links_stay_on_this_site(
    server: tuple[FastAPI, httpx.AsyncClient], fake: FakePushService, url: str, opened: str
) -> None:
    _, client = server
    sub = fake.create_subscription()
    await client.post(GATEWAY, json=gateway_body(gateway_device(sub, default_payload={"url": url})))
    [msg] = fake.messages_for(sub)
    assert json.loads(msg.plaintext or b"")["url"] == opened


async def test_service_worker_opens_only_this_site(server: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = server
    sw = (await client.get("/push/sw.js")).text
    assert "url.origin === self.location.origin" in sw and "sameOriginUrl(event.notification.data" in sw


# 6. Metrics and API docs are not public.


async def test_metrics_need_the_token_and_docs_are_off(tmp_path: Path, clock: FrozenClock) -> None:
    async with running_app(make_settings(tmp_path), clock) as (_, client):
        assert (await client.get("/metrics")).status_code == 404
        for path in ("/api/docs", "/api/openapi.json", "/redoc"):
            assert (await client.get(path)).status_code == 404, path
    settings = with_server(make_settings(tmp_path), metrics_token="m" * 32, api_docs=True)
    async with running_app(settings, clock) as (_, client):
        assert (await client.get("/metrics")).status_code == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        scraped = await client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 32})
        assert scraped.status_code == 200 and "zhiban_gateway_requests" in scraped.text
        assert (await client.get("/api/openapi.json")).status_code == 200


# 7. Rate limits.


async def test_sign_in_page_is_limited_per_address(tmp_path: Path, clock: FrozenClock) -> None:
    settings = with_server(make_settings(tmp_path), signin_requests_per_minute=5)
    async with running_app(settings, clock) as (app, client):
        answers = [(await client.get(f"/push/signin/guess-{n}")).status_code for n in range(6)]
        assert answers == [404] * 5 + [429]
        limited = await client.get("/push/signin/guess-x")
        assert limited.json()["error"] == "rate_limited" and int(limited.headers["retry-after"]) >= 1
        async with browser(app, "10.0.0.9") as elsewhere:
            assert (await elsewhere.get("/push/signin/guess-y")).status_code == 404, "other addresses go on"
        clock.advance(timedelta(minutes=1))
        assert (await client.get("/push/signin/guess-z")).status_code == 404


async def test_push_api_is_limited_per_person_across_addresses(tmp_path: Path, clock: FrozenClock) -> None:
    settings = with_server(make_settings(tmp_path), api_requests_per_minute=4)
    async with running_app(settings, clock) as (app, first):
        cookie = await sign_in(app, first, clock)
        async with browser(app, "10.0.0.2") as second:
            second.cookies.set(COOKIE, cookie)
            statuses = [(await c.get("/api/push/me")).status_code for c in (first, first, second, second)]
            assert statuses == [200] * 4
            # Each address has tokens left (4 a minute, 2 used), the person has none.
            assert (await first.get("/api/push/me")).status_code == 429
            assert (await second.get("/api/push/me")).status_code == 429


async def test_gateway_is_limited_per_address(tmp_path: Path, clock: FrozenClock) -> None:
    settings = with_server(make_settings(tmp_path), gateway_requests_per_minute=2)
    async with running_app(settings, clock) as (_, client):
        statuses = [(await client.post(GATEWAY, content=b"{}")).status_code for _ in range(3)]
    assert statuses == [400, 400, 429]


# 8. Malformed input is the client's mistake, not a crash.


async def test_deeply_nested_json_is_a_400(server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock) -> None:
    app, client = server
    nested = b"[" * 5000 + b"]" * 5000  # 10 KB
    headers = {"Content-Type": "application/json"}
    gateway = await client.post(GATEWAY, content=nested, headers=headers)
    assert gateway.status_code == 400 and "nested" in gateway.json()["message"]
    await sign_in(app, client, clock)
    api = await client.post("/api/push/subscriptions", content=nested, headers=headers)
    assert api.status_code == 400 and "nested" in api.json()["message"]


@pytest.mark.parametrize("sub_id", [str(2**63), str(2**64), "-1", "0", "1e3"])
async def test_out_of_range_ids_are_404(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, sub_id: str
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    response = await client.delete(f"/api/push/subscriptions/{sub_id}")
    assert response.status_code == 404 and response.json()["error"] == "not_found"
