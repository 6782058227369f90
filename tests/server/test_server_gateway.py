"""The Matrix Push Gateway endpoint with Sygnal's webpush data, against the fake push service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from fake_push_service import FakePushService, FakeSubscription, Reply
from server_env import clock_fixture, fake_fixture, server_fixture, settings_fixture  # noqa: F401 - shared fixtures

from records.config import Settings

PATH = "/_matrix/push/v1/notify"


def device(sub: FakeSubscription, **data: Any) -> dict[str, Any]:
    return {
        "app_id": "zhiban.web",
        "pushkey": sub.p256dh,
        "pushkey_ts": 12345678,
        "data": {"endpoint": sub.endpoint, "auth": sub.auth, **data},
        "tweaks": {"sound": "default"},
    }


def notification(*devices: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "notification": {
            "event_id": "$3957tyerfgewrf384",
            "room_id": "!slw48wfj34rtnrf:example.org",
            "type": "m.room.message",
            "sender": "@exampleuser:matrix.org",
            "sender_display_name": "Major Tom",
            "room_name": "应急指挥",
            "prio": "high",
            "content": {"msgtype": "m.text", "body": "请立即到岗"},
            "counts": {"unread": 2, "missed_calls": 1},
            "devices": list(devices),
            **extra,
        }
    }


async def test_push_through_gateway_is_decryptable(
    server: tuple[FastAPI, httpx.AsyncClient], fake: FakePushService
) -> None:
    _, client = server
    sub = fake.create_subscription()
    response = await client.post(PATH, json=notification(device(sub)))
    assert response.status_code == 200 and response.json() == {"rejected": []}
    [msg] = fake.messages_for(sub)
    payload = json.loads(msg.plaintext or b"")
    assert payload["title"] == "Major Tom · 应急指挥" and payload["body"] == "请立即到岗"
    assert payload["event_id"] == "$3957tyerfgewrf384" and payload["unread"] == 2
    assert msg.urgency == "high" and msg.ttl is not None and int(msg.ttl) > 0


async def test_event_id_only_format_carries_no_content(
    server: tuple[FastAPI, httpx.AsyncClient], fake: FakePushService
) -> None:
    _, client = server
    sub = fake.create_subscription()
    await client.post(PATH, json=notification(device(sub, format="event_id_only"), prio="low"))
    [msg] = fake.messages_for(sub)
    assert "请立即到岗" not in (msg.plaintext or b"").decode()
    assert msg.urgency == "normal"


async def test_dead_keys_are_rejected(server: tuple[FastAPI, httpx.AsyncClient], fake: FakePushService) -> None:
    _, client = server
    alive, gone, expired, busy = (fake.create_subscription() for _ in range(4))
    fake.forget(gone)  # 404
    fake.script(expired, Reply(410))
    fake.script(busy, *[Reply(500)] * 5)
    outside = {
        "app_id": "zhiban.web",
        "pushkey": "outside-key",
        "data": {"endpoint": "https://evil.example.com/x", "auth": alive.auth},
    }
    no_data = {"app_id": "zhiban.web", "pushkey": "no-data-key"}
    body = notification(device(alive), device(gone), device(expired), device(busy), outside, no_data)
    response = await client.post(PATH, json=body)
    assert response.status_code == 200
    assert sorted(response.json()["rejected"]) == sorted([gone.p256dh, expired.p256dh, "outside-key", "no-data-key"])
    assert len(fake.messages_for(alive)) == 1
    assert len(fake.attempts_for(busy)) == 2, "a busy service is retried, and its key is not rejected"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{oops", "not valid JSON"),
        (b"[]", "'notification' object"),
        (b'{"notification": {"devices": []}}', "non-empty list"),
        (b'{"notification": {"devices": [{"pushkey": "k"}]}}', "app_id"),
        (b'{"notification": {"devices": [{"pushkey": "k", "app_id": "a", "data": 3}]}}', "'data'"),
    ],
)
async def test_bad_gateway_requests(server: tuple[FastAPI, httpx.AsyncClient], body: bytes, needle: str) -> None:
    _, client = server
    response = await client.post(PATH, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and needle in response.json()["message"]


async def test_gateway_body_limit(server: tuple[FastAPI, httpx.AsyncClient], settings: Settings) -> None:
    _, client = server
    big = b'{"notification": {"content": {"body": "' + b"x" * settings.server.gateway_max_body_bytes + b'"}}}'
    response = await client.post(PATH, content=big, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
