"""Push outcomes per push service, for Prometheus: is Apple's service refusing us, or FCM slow?

The service is named from the endpoint's host, among a few known ones, so that the label stays
small however many browsers subscribe.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from urllib.parse import urlsplit

from prometheus_client import Counter

PUSH_OUTCOMES = Counter(
    "zhiban_push_outcomes",
    "Web pushes of notices by push service and outcome (delivered, expired, failed, retrying, gone, rejected…)",
    ["service", "outcome"],
)

# Host suffix → service label; the first that matches wins.
SERVICES = (
    ("fcm.googleapis.com", "fcm"),
    (".push.apple.com", "apple"),
    (".mozilla.com", "mozilla"),
    (".notify.windows.com", "windows"),
)


def service_of(endpoint: str) -> str:
    try:
        host = (urlsplit(endpoint).hostname or "").lower()
    except ValueError:
        return "other"
    for suffix, name in SERVICES:
        if host == suffix.lstrip(".") or host.endswith(suffix):
            return name
    return "other"


def count(endpoint: str, outcome: str) -> None:
    PUSH_OUTCOMES.labels(service_of(endpoint), outcome).inc()


def count_many(outcomes: Iterable[tuple[str, str]]) -> None:
    """`count` for each (endpoint, outcome) of a fan-out: one increment per service and outcome,
    and one look-up of the service per push-service origin rather than per message."""
    services: dict[str, str] = {}
    tally: Tally[tuple[str, str]] = Tally()
    for endpoint, outcome in outcomes:
        origin = endpoint.split("/", 3)[2] if endpoint.count("/") >= 3 else endpoint
        service = services.get(origin)
        if service is None:
            service = services[origin] = service_of(endpoint)
        tally[service, outcome] += 1
    for (service, outcome), n in tally.items():
        PUSH_OUTCOMES.labels(service, outcome).inc(n)
