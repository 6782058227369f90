"""The Matrix Push Gateway API (`/_matrix/push/v1/notify`), with Sygnal's webpush data.

A homeserver pusher of kind "http" carries `data.endpoint` and `data.auth` (and the
pushkey is the browser's p256dh key), as Sygnal's webpush pushkin expects. We turn each
notification into one Web Push per device, through the same sender as everything else, and
answer the pushkeys that are dead (404/410, or an endpoint we will not send to) as
`rejected`, so the homeserver removes those pushers.

The route is open to the internet, so it must not be a free push relay: only devices of the
configured app ids are served (others are rejected, as Sygnal does), a request serves a few
devices at most (a homeserver sends one), and a `default_payload.url` that is not a path on
this server is dropped, so that a tap never opens another site.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from notifications.payload import PAGE_PATH, fit, local_path
from notifications.webpush import (
    Allowlist,
    OutcomeKind,
    PushItem,
    Subscription,
    Urgency,
    WebPushSender,
)
from notifications.webpush.errors import PushValidationError
from notifications.webpush.sender import MAX_TTL

GATEWAY_TTL = 3600
_BODY_CHARS = 1000


class GatewayError(ValueError):
    """The request is not a push gateway notification; the message says what is wrong."""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def summary(notification: Mapping[str, Any], *, include_content: bool) -> dict[str, Any]:
    """What the device shows: who, where, and (unless the pusher asked for ids only) what."""
    sender = _str(notification.get("sender_display_name")) or _str(notification.get("sender")) or ""
    room = _str(notification.get("room_name")) or _str(notification.get("room_alias"))
    title = f"{sender} · {room}" if room and sender else (room or sender or "Matrix")
    body = ""
    content = notification.get("content")
    if include_content and isinstance(content, Mapping):
        body = _str(content.get("body")) or ""
        if len(body) > _BODY_CHARS:
            body = body[: _BODY_CHARS - 1] + "…"
    data: dict[str, Any] = {"kind": "message", "title": title, "body": body}
    for key in ("event_id", "room_id", "type", "sender", "prio"):
        if _str(notification.get(key)):
            data[key] = notification[key]
    counts = notification.get("counts")
    if isinstance(counts, Mapping) and isinstance(counts.get("unread"), int):
        data["unread"] = counts["unread"]
    return data


def parse(body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check the request's shape; returns (notification, devices) or raises GatewayError."""
    if not isinstance(body, dict) or not isinstance(body.get("notification"), dict):
        raise GatewayError("the body must be a JSON object with a 'notification' object")
    notification = body["notification"]
    devices = notification.get("devices")
    if not isinstance(devices, list) or not devices:
        raise GatewayError("'notification.devices' must be a non-empty list")
    for device in devices:
        if not isinstance(device, dict) or not _str(device.get("pushkey")) or not _str(device.get("app_id")):
            raise GatewayError("each device needs a string 'app_id' and 'pushkey'")
        if device.get("data") is not None and not isinstance(device["data"], dict):
            raise GatewayError("a device's 'data' must be an object")
    return notification, devices


async def relay(
    notification: dict[str, Any],
    devices: list[dict[str, Any]],
    sender: WebPushSender,
    allowlist: Allowlist,
    *,
    app_ids: Collection[str],
    max_devices: int,
) -> tuple[list[str], dict[str, int]]:
    """Push one notification to its devices; returns (rejected pushkeys, count per outcome)."""
    rejected: list[str] = []
    counts: dict[str, int] = {}
    items: list[tuple[str, PushItem]] = []
    high = notification.get("prio", "high") == "high"
    for index, device in enumerate(devices):
        pushkey = str(device["pushkey"])
        refusal = "too_many" if index >= max_devices else None if device["app_id"] in app_ids else "unknown_app"
        if refusal is not None:
            rejected.append(pushkey)
            counts[refusal] = counts.get(refusal, 0) + 1
            continue
        data = device.get("data") or {}
        endpoint, auth = _str(data.get("endpoint")), _str(data.get("auth"))
        if endpoint is None or auth is None:
            rejected.append(pushkey)
            counts["invalid"] = counts.get("invalid", 0) + 1
            continue
        include_content = data.get("format") != "event_id_only"
        payload = {**summary(notification, include_content=include_content)}
        default_payload = data.get("default_payload")
        if isinstance(default_payload, dict):
            payload = {**default_payload, **payload}
            if "url" in payload:
                payload["url"] = local_path(payload["url"]) or PAGE_PATH
        ttl = data.get("ttl")
        if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL:
            ttl = GATEWAY_TTL
        sub = Subscription(endpoint=endpoint, p256dh=pushkey, auth=auth)
        try:
            allowlist.check(endpoint)
        except PushValidationError:
            rejected.append(pushkey)
            counts["not_allowed"] = counts.get("not_allowed", 0) + 1
            continue
        items.append((pushkey, PushItem(sub, fit(payload), ttl=ttl, urgency=Urgency.HIGH if high else Urgency.NORMAL)))
    outcomes = await sender.send_many(item for _, item in items) if items else []
    for (pushkey, _), outcome in zip(items, outcomes, strict=True):
        counts[outcome.kind.value] = counts.get(outcome.kind.value, 0) + 1
        # Sygnal's rule: only a dead subscription (or one we can never use) loses its pusher.
        if outcome.kind in (OutcomeKind.GONE, OutcomeKind.INVALID):
            rejected.append(pushkey)
    return rejected, counts
