"""Push outcomes are counted per push service, named from the endpoint's host among a few known
ones (the delivery tests count them: tests/notifications/test_push_service_delivery.py)."""

from __future__ import annotations

import pytest

from notifications.push_metrics import service_of


@pytest.mark.parametrize(
    ("endpoint", "service"),
    [
        ("https://fcm.googleapis.com/fcm/send/abc", "fcm"),
        ("https://web.push.apple.com/QO2x", "apple"),
        ("https://updates.push.services.mozilla.com/wpush/v2/x", "mozilla"),
        ("https://wns2-par02p.notify.windows.com/w/?token=x", "windows"),
        ("http://127.0.0.1:9999/push/1", "other"),
        ("not a url", "other"),
    ],
)
def test_the_service_is_named_from_the_endpoint_host(endpoint: str, service: str) -> None:
    assert service_of(endpoint) == service
