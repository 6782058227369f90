"""RFC 8291 encryption: the RFC's own example, round trips and key validation."""

from __future__ import annotations

import os

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.webpush.crypto import (
    HEADER_LEN,
    MAX_BODY,
    MAX_PLAINTEXT,
    b64url_decode,
    b64url_encode,
    encrypt_message,
    validate_subscription_keys,
)
from notifications.webpush.errors import InvalidSubscriptionKeys, PayloadTooLarge

# RFC 8291 Appendix A, line breaks removed.
RFC_PLAINTEXT = b"When I grow up, I want to be a watermelon"
RFC_AS_PRIVATE = "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"
RFC_AS_PUBLIC = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
RFC_UA_PRIVATE = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
RFC_UA_PUBLIC = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
RFC_SALT = "DGv6ra1nlYgDCS1FRnbzlw"
RFC_AUTH = "BTBZMqHH6r4Tts7J_aSIgg"
RFC_BODY = (
    "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8w"
    "EqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)


def _key(b64: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(b64url_decode(b64), "big"), ec.SECP256R1())


def _raw_public(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _decrypt(body: bytes, ua_key: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    result: bytes = http_ece.decrypt(body, private_key=ua_key, auth_secret=auth, version="aes128gcm")
    return result


def test_rfc8291_appendix_a_byte_for_byte() -> None:
    as_key = _key(RFC_AS_PRIVATE)
    assert b64url_encode(_raw_public(as_key)) == RFC_AS_PUBLIC
    body = encrypt_message(
        RFC_PLAINTEXT,
        b64url_decode(RFC_UA_PUBLIC),
        b64url_decode(RFC_AUTH),
        salt=b64url_decode(RFC_SALT),
        as_private_key=as_key,
    )
    assert body == b64url_decode(RFC_BODY)
    assert _decrypt(body, _key(RFC_UA_PRIVATE), b64url_decode(RFC_AUTH)) == RFC_PLAINTEXT


def test_round_trip_and_fresh_salt_and_key_per_message() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    first = encrypt_message(b"hello", _raw_public(ua), auth)
    second = encrypt_message(b"hello", _raw_public(ua), auth)
    assert _decrypt(first, ua, auth) == b"hello"
    assert _decrypt(second, ua, auth) == b"hello"
    assert first[:16] != second[:16], "salt must be fresh per message"
    assert first[21:86] != second[21:86], "ephemeral key must be fresh per message"
    assert first[20] == 65 and first[21] == 0x04
    assert int.from_bytes(first[16:20], "big") == 4096


def test_max_plaintext_fits_4096_byte_body_exactly() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    assert MAX_PLAINTEXT == MAX_BODY - HEADER_LEN - 17 == 3993
    body = encrypt_message(b"a" * MAX_PLAINTEXT, _raw_public(ua), auth)
    assert len(body) == MAX_BODY
    assert _decrypt(body, ua, auth) == b"a" * MAX_PLAINTEXT
    with pytest.raises(PayloadTooLarge):
        encrypt_message(b"a" * (MAX_PLAINTEXT + 1), _raw_public(ua), auth)


@pytest.mark.parametrize(
    ("ua_public", "match"),
    [
        (b"\x04" + b"\x01" * 63, "65-byte"),
        (b"\x02" + b"\x01" * 64, "0x04"),
        (b"\x04" + b"\x01" * 64, "not a valid point"),
    ],
)
def test_bad_ua_public_key_refused(ua_public: bytes, match: str) -> None:
    with pytest.raises(InvalidSubscriptionKeys, match=match):
        encrypt_message(b"x", ua_public, os.urandom(16))


def test_bad_auth_refused() -> None:
    ua = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(InvalidSubscriptionKeys, match="16 bytes"):
        encrypt_message(b"x", _raw_public(ua), os.urandom(15))
    with pytest.raises(InvalidSubscriptionKeys):
        validate_subscription_keys(b64url_encode(_raw_public(ua)), "not base64 !!")
    assert issubclass(InvalidSubscriptionKeys, ValueError)


def test_b64url_tolerates_padding_and_standard_alphabet() -> None:
    data = bytes(range(250, 256)) + b"\xfb\xff"
    unpadded = b64url_encode(data)
    assert "=" not in unpadded
    assert b64url_decode(unpadded) == data
    assert b64url_decode(unpadded + "=" * (-len(unpadded) % 4)) == data
    assert b64url_decode(unpadded.replace("-", "+").replace("_", "/")) == data
    with pytest.raises(ValueError):
        b64url_decode("a")
