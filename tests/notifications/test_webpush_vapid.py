"""VAPID signing: valid ES256 JWTs, one cached token per origin, key formats."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from notifications.webpush.crypto import b64url_decode, b64url_encode
from notifications.webpush.errors import InvalidVapidConfig
from notifications.webpush.vapid import VapidSigner, endpoint_origin, generate_vapid_keys


def _parse(header: str) -> tuple[dict[str, object], str]:
    """Verify the header like a push service would; return (claims, k)."""
    assert header.startswith("vapid t=")
    token_part, key_part = header[len("vapid ") :].split(", ")
    token, key = token_part.removeprefix("t="), key_part.removeprefix("k=")
    h, c, s = token.split(".")
    assert json.loads(b64url_decode(h)) == {"typ": "JWT", "alg": "ES256"}
    sig = b64url_decode(s)
    assert len(sig) == 64
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    public.verify(der, f"{h}.{c}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if bad
    return json.loads(b64url_decode(c)), key


class FakeClock:
    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_generated_keys_are_usable_and_public_key_matches() -> None:
    private, public = generate_vapid_keys()
    assert len(b64url_decode(private)) == 32
    raw_public = b64url_decode(public)
    assert len(raw_public) == 65 and raw_public[0] == 4
    signer = VapidSigner(private, "mailto:ops@example.org")
    assert signer.public_key == public
    claims, k = _parse(signer.authorization("https://fcm.googleapis.com/fcm/send/abc"))
    assert k == public
    assert claims["aud"] == "https://fcm.googleapis.com"
    assert claims["sub"] == "mailto:ops@example.org"


def test_token_cached_per_origin_and_aud_never_shared() -> None:
    clock = FakeClock()
    signer = VapidSigner(generate_vapid_keys()[0], "mailto:ops@example.org", clock=clock)
    a1 = signer.authorization("https://fcm.googleapis.com/fcm/send/one")
    a2 = signer.authorization("https://fcm.googleapis.com/fcm/send/two")
    m = signer.authorization("https://updates.push.services.mozilla.com/wpush/v2/x")
    assert a1 == a2
    assert a1 != m
    assert signer.signatures_made == 2
    assert _parse(a1)[0]["aud"] == "https://fcm.googleapis.com"
    assert _parse(m)[0]["aud"] == "https://updates.push.services.mozilla.com"
    claims = _parse(a1)[0]
    assert claims["exp"] == int(clock.now) + 12 * 3600


def test_token_refreshed_before_expiry() -> None:
    clock = FakeClock()
    signer = VapidSigner(generate_vapid_keys()[0], "mailto:ops@example.org", clock=clock)
    first = signer.authorization("https://fcm.googleapis.com/x")
    clock.now += 10 * 3600  # still > 1h left: reuse
    assert signer.authorization("https://fcm.googleapis.com/x") == first
    clock.now += 1.5 * 3600  # 30 min left: must re-sign
    second = signer.authorization("https://fcm.googleapis.com/x")
    assert second != first
    assert _parse(second)[0]["exp"] == int(clock.now) + 12 * 3600
    assert signer.signatures_made == 2


def test_private_key_formats_pem_der_and_object() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    publics = {VapidSigner(value, "https://zhiban.example.org").public_key for value in (key, pem, b64url_encode(der))}
    assert len(publics) == 1


@pytest.mark.parametrize(
    ("key", "subject"),
    [
        ("not-a-key", "mailto:a@example.org"),
        (None, "ops@example.org"),  # subject must be a mailto: or https:// URI
    ],
)
def test_bad_config_refused(key: str | None, subject: str) -> None:
    with pytest.raises(InvalidVapidConfig):
        VapidSigner(key or generate_vapid_keys()[0], subject)


def test_endpoint_origin() -> None:
    assert endpoint_origin("https://fcm.googleapis.com:443/fcm/send/x?y=1") == "https://fcm.googleapis.com"
    assert endpoint_origin("http://127.0.0.1:8080/push/1") == "http://127.0.0.1:8080"
    assert endpoint_origin("http://[::1]:9/p") == "http://[::1]:9"
