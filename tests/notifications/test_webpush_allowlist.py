"""Endpoint allowlist: only https endpoints of known push services."""

from __future__ import annotations

import pytest

from notifications.webpush.allowlist import Allowlist
from notifications.webpush.errors import EndpointNotAllowed


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/abc:def",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAA",
        "https://web.push.apple.com/QGuQyavXutnMei",
        "https://api.push.apple.com/3/device/x",
        "https://wns2-par02p.notify.windows.com/w/?token=abc",
        "https://FCM.googleapis.com./fcm/send/x",
        "https://fcm.googleapis.com:443/fcm/send/x",
    ],
)
def test_known_push_services_accepted(endpoint: str) -> None:
    assert Allowlist().check(endpoint) == endpoint


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", "https"),
        ("https://evil.example.com/push", "not a known push service"),
        ("https://fcm.googleapis.com.evil.com/x", "not a known push service"),
        ("https://notify.windows.com/x", "not a known push service"),
        ("https://evilpush.apple.com/x", "not a known push service"),
        ("https://fcm.googleapis.com:8443/x", "port"),
        ("https://user:pw@fcm.googleapis.com/x", "credentials"),
        ("http://127.0.0.1:8080/push/1", "https"),
        ("ftp://fcm.googleapis.com/x", "https"),
        ("not a url", "host"),
    ],
)
def test_refused_with_clear_message(endpoint: str, reason: str) -> None:
    allowlist = Allowlist()
    with pytest.raises(EndpointNotAllowed, match=reason):
        allowlist.check(endpoint)
    assert not allowlist.is_allowed(endpoint)


def test_loopback_needs_explicit_switch() -> None:
    allowlist = Allowlist(hosts=["push.example.org"], allow_insecure_loopback=True)
    assert allowlist.is_allowed("http://127.0.0.1:8080/push/1")
    assert allowlist.is_allowed("http://[::1]:8080/push/1")
    assert allowlist.is_allowed("http://localhost:1/push/1")
    assert allowlist.is_allowed("https://push.example.org/x")
    assert not allowlist.is_allowed("http://10.0.0.1:8080/push/1")
    assert not allowlist.is_allowed("https://fcm.googleapis.com/x"), "custom hosts replace the defaults"


def test_bad_pattern_rejected() -> None:
    with pytest.raises(ValueError):
        Allowlist(hosts=["fcm.*.com"])
