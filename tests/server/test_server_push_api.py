"""The push API end to end: sign-in link, subscribe, test push through the worker, bad input."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from fake_push_service import FakePushService
from push_env import T0, make_settings, run_push_timers
from server_env import USER, clock_fixture, fake_fixture, make_link, running_app, server_fixture, settings_fixture  # noqa: F401 - shared fixtures

from notifications import reach
from records.clock import FrozenClock
from records.config import Settings
from server.session import COOKIE


async def sign_in(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, user: str = USER) -> None:
    token = await make_link(app, clock, user)
    page = await client.get(f"/push/signin/{token}")
    assert page.status_code == 200 and user in page.text
    assert COOKIE not in client.cookies, "showing the page (a link preview) must not sign in"
    done = await client.post(f"/push/signin/{token}")
    assert done.status_code == 303 and done.headers["location"] == "/push/"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def as_json(body: object) -> dict[str, object]:
    assert isinstance(body, dict)
    return body


async def test_round_trip_subscribe_and_push(
    server: tuple[FastAPI, httpx.AsyncClient], settings: Settings, clock: FrozenClock, fake: FakePushService
) -> None:
    app, client = server
    key = (await client.get("/api/push/vapid-public-key")).json()["publicKey"]
    assert key == settings.push.vapid_public_key
    await sign_in(app, client, clock)
    assert (await client.get("/api/push/me")).json() == {"user_id": USER, "lang": "zh"}

    browser = fake.create_subscription()  # a browser-like key pair
    created = await client.post("/api/push/subscriptions", json=browser.to_json())
    assert created.status_code == 201, created.text
    again = await client.post("/api/push/subscriptions", json=browser.to_json())
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    listed = (await client.get("/api/push/subscriptions")).json()["subscriptions"]
    assert [s["endpoint"] for s in listed] == [browser.endpoint]

    queued = await client.post("/api/push/test")
    assert queued.status_code == 202 and queued.json()["queued"] == 1
    assert await run_push_timers(app.state.db, settings, clock) == ["done"]
    [msg] = fake.messages_for(browser)
    assert json.loads(msg.plaintext or b"")["title"] == "测试推送"
    assert msg.jwt_claims["aud"] == fake.origin and msg.jwt_claims["sub"] == "mailto:ops@zhiban.test"

    notices = (await client.get("/api/push/notices")).json()["notices"]
    assert [(n["title"], n["status"]) for n in notices] == [("测试推送", "delivered")]

    gone = await client.delete(f"/api/push/subscriptions/{created.json()['id']}")
    assert gone.status_code == 204
    assert (await client.get("/api/push/subscriptions")).json()["subscriptions"] == []


async def test_someone_elses_subscription_cannot_be_deleted(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, fake: FakePushService
) -> None:
    app, client = server
    await sign_in(app, client, clock, "@a:office.test")
    sub_id = (await client.post("/api/push/subscriptions", json=fake.create_subscription().to_json())).json()["id"]
    client.cookies.clear()
    await sign_in(app, client, clock, "@b:office.test")
    refused = await client.delete(f"/api/push/subscriptions/{sub_id}")
    assert refused.status_code == 404 and "no subscription" in refused.json()["message"]


async def test_signin_link_expires_and_works_once(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    token = await make_link(app, clock, minutes=15)
    assert (await client.post(f"/push/signin/{token}")).status_code == 303
    for method in (client.get, client.post):
        second = await method(f"/push/signin/{token}")
        assert second.status_code == 410 and 'data-reason="used"' in second.text

    late = await make_link(app, clock, minutes=15)
    clock.advance(timedelta(minutes=15))
    expired = await client.post(f"/push/signin/{late}")
    assert expired.status_code == 410 and 'data-reason="expired"' in expired.text
    unknown = await client.post("/push/signin/not-a-real-token")
    assert unknown.status_code == 404 and 'data-reason="unknown"' in unknown.text
    # The Chinese text names the Chinese command; the English one the English name.
    for page in (second, expired, unknown):
        assert "发送 !推送" in page.text and "发送 !push" not in page.text and "Send !push" in page.text


async def test_session_cookie_expires(
    server: tuple[FastAPI, httpx.AsyncClient], settings: Settings, clock: FrozenClock
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    assert (await client.get("/api/push/me")).status_code == 200
    clock.advance(timedelta(days=settings.server.session_days, seconds=1))
    expired = await client.get("/api/push/me")
    assert expired.status_code == 401 and expired.json()["error"] == "bad_session"


AUTHED = [
    ("GET", "/api/push/me"),
    ("GET", "/api/push/subscriptions"),
    ("POST", "/api/push/subscriptions"),
    ("DELETE", "/api/push/subscriptions/1"),
    ("GET", "/api/push/notices"),
    ("POST", "/api/push/test"),
]


@pytest.mark.parametrize(("method", "path"), AUTHED)
async def test_no_or_forged_cookie_is_refused(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, method: str, path: str
) -> None:
    app, client = server
    missing = await client.request(method, path, json={})
    assert missing.status_code == 401 and "!push" in missing.json()["message"]

    await sign_in(app, client, clock)
    real = client.cookies[COOKIE]
    payload, mac = real.split(".")
    # Same signature, another user in the payload; and a cookie signed with another key.
    import base64

    other = base64.urlsafe_b64encode(json.dumps(["@admin:office.test", int(T0.timestamp())]).encode())
    forged_values = [f"{other.decode().rstrip('=')}.{mac}", f"{payload}.{'A' * len(mac)}", "garbage", real + "x"]
    for value in forged_values:
        client.cookies.clear()
        client.cookies.set(COOKIE, value)
        forged = await client.request(method, path, json={})
        assert forged.status_code == 401, value
        assert forged.json()["error"] == "bad_session"


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b'"just a string"', 422, "PushSubscription"),
        (b'{"endpoint": "https://push.example.org/x"}', 422, "keys"),
        ("wrong-key-length", 400, "p256dh"),
        ("short-auth", 400, "auth"),
        ("http-endpoint", 400, "https"),
        ("unknown-host", 400, "not a known push service"),
        ("other-port", 400, "port"),
    ],
)
async def test_bad_subscriptions_are_refused(
    server: tuple[FastAPI, httpx.AsyncClient],
    clock: FrozenClock,
    fake: FakePushService,
    body: bytes | str,
    status: int,
    needle: str,
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    good = fake.create_subscription().to_json()
    good["endpoint"] = "https://push.example.org/wpush/abc"
    variants = {
        "wrong-key-length": {**good, "keys": {**good["keys"], "p256dh": good["keys"]["p256dh"][:-4]}},
        "short-auth": {**good, "keys": {**good["keys"], "auth": "c2hvcnQ"}},
        "http-endpoint": {**good, "endpoint": "http://push.example.org/wpush/abc"},
        "unknown-host": {**good, "endpoint": "https://evil.example.com/collect"},
        "other-port": {**good, "endpoint": "https://push.example.org:8443/x"},
    }
    raw = json.dumps(variants[body]).encode() if isinstance(body, str) else body
    response = await client.post("/api/push/subscriptions", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == status, response.text
    assert needle in response.json()["message"]
    assert (await client.get("/api/push/subscriptions")).json()["subscriptions"] == []


async def test_allowlist_accepts_configured_service(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock, fake: FakePushService
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    sub = {**fake.create_subscription().to_json(), "endpoint": "https://push.example.org/wpush/abc"}
    assert (await client.post("/api/push/subscriptions", json=sub)).status_code == 201


async def test_other_bad_requests(
    server: tuple[FastAPI, httpx.AsyncClient], settings: Settings, clock: FrozenClock, fake: FakePushService
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    form = await client.post("/api/push/subscriptions", data={"endpoint": "x"})
    assert form.status_code == 415 and "application/json" in form.json()["message"]
    huge = b'{"endpoint": "' + b"a" * settings.server.max_body_bytes + b'"}'
    too_big = await client.post("/api/push/subscriptions", content=huge, headers={"Content-Type": "application/json"})
    assert too_big.status_code == 413 and "larger than" in too_big.json()["message"]

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(settings.server.max_body_bytes // 1000 + 2):
            yield b" " * 1000

    streamed = await client.post(
        "/api/push/subscriptions", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413, "a body without Content-Length is counted as it arrives"
    # An id that is not a number names nothing.
    assert (await client.delete("/api/push/subscriptions/abc")).status_code == 404
    assert (await client.get("/api/push/notices?limit=100000")).status_code == 422
    assert (await client.get("/api/push/nothing-here")).json()["error"] == "not_found"
    long_endpoint = {**fake.create_subscription().to_json(), "endpoint": "https://push.example.org/" + "a" * 1500}
    assert (await client.post("/api/push/subscriptions", json=long_endpoint)).status_code == 400


async def test_vapid_key_missing_is_a_clear_503(tmp_path: Path, clock: FrozenClock) -> None:
    settings = make_settings(tmp_path, vapid_private_key="", vapid_public_key="")
    async with running_app(settings, clock) as (_, client):
        response = await client.get("/api/push/vapid-public-key")
    assert response.status_code == 503 and "VAPID" in response.json()["message"]


async def test_page_manifest_and_service_worker(server: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, client = server
    page = await client.get("/push/")
    assert page.status_code == 200 and 'rel="manifest"' in page.text and "/push/static/app.js" in page.text
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert "<script>" not in page.text, "no inline script: the CSP forbids it"
    manifest = (await client.get("/push/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/push/" and manifest["display"] == "standalone"
    sw = await client.get("/push/sw.js")
    assert sw.status_code == 200 and "showNotification" in sw.text
    assert sw.headers["content-type"].startswith("text/javascript")
    assert (await client.get("/push/static/app.js")).status_code == 200
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200


async def test_a_test_push_without_a_device_says_none_was_sent_and_how_to_add_one(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    app, client = server
    await sign_in(app, client, clock)
    answer = await client.post("/api/push/test")
    assert answer.status_code == 409 and answer.json()["error"] == "no_device"
    message = answer.json()["message"]  # what the phone page shows
    assert "没有发出" in message and "还没有开通推送的设备" in message
    # The next step names the page's own button, so it must be the label the page shows.
    button = "开通本设备推送"
    assert f"“{button}”" in message
    assert f'subscribe: "{button}"' in (Path(__file__).parents[2] / "server/static/app.js").read_text()
    assert (await client.get("/api/push/notices")).json()["notices"] == [], "nothing was sent, nothing listed"


async def test_the_page_lists_notices_that_reached_a_person_in_chat_newest_first(
    server: tuple[FastAPI, httpx.AsyncClient], clock: FrozenClock
) -> None:
    """An alert and two orders reached someone with no phone subscribed yet, in chat: the
    phone page lists them once they sign in, not "暂无通知"."""
    app, client = server
    sent = [("alert", "🚨 E1 预警：东区积水"), ("order", "📋 E1 指令：封闭东区路口"), ("order", "📋 E1 指令：上报人数")]
    for kind, title in sent:
        clock.advance(timedelta(minutes=1))
        async with app.state.db.transaction() as session:
            await reach.push(session, [USER], kind=kind, title=title, body=title, clock=clock, ref="em:E1")
    await sign_in(app, client, clock)
    notices = (await client.get("/api/push/notices")).json()["notices"]
    assert [(n["title"], n["status"]) for n in notices] == [(title, "chat") for _, title in reversed(sent)]
    assert 'chat: "已在聊天中发送"' in (Path(__file__).parents[2] / "server/static/app.js").read_text()
