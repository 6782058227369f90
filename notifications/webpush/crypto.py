"""RFC 8291 message encryption (``aes128gcm``, RFC 8188) for Web Push.

``http_ece`` does the key derivation and the record encryption; this module
adds what a sender needs around it: strict validation of the subscription's
keys (so a bad row fails loudly and early), a fresh ephemeral key and salt per
message, the single-record size rule, and base64url helpers that accept the
padded and unpadded forms browsers and libraries produce.
"""

from __future__ import annotations

import base64
import binascii
import os

import http_ece
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.webpush.errors import InvalidSubscriptionKeys, PayloadTooLarge

__all__ = [
    "AUTH_SECRET_LEN",
    "HEADER_LEN",
    "MAX_BODY",
    "MAX_PLAINTEXT",
    "RECORD_OVERHEAD",
    "UA_PUBLIC_LEN",
    "b64url_decode",
    "b64url_encode",
    "encrypt_message",
    "load_ua_public_key",
    "max_plaintext",
    "validate_subscription_keys",
]

UA_PUBLIC_LEN = 65
"""An uncompressed P-256 point: 0x04 || X (32) || Y (32)."""
AUTH_SECRET_LEN = 16
SALT_LEN = 16
HEADER_LEN = SALT_LEN + 4 + 1 + UA_PUBLIC_LEN
"""aes128gcm header: salt, record size (uint32), key id length, sender public key."""
RECORD_OVERHEAD = 1 + 16
"""The padding delimiter byte (0x02 for the last record) plus the AES-GCM tag."""
MAX_BODY = 4096
"""Push services are only required to accept 4096 bytes of body (RFC 8030 §7.2)."""
MAX_PLAINTEXT = MAX_BODY - HEADER_LEN - RECORD_OVERHEAD
"""3993 bytes: the largest plaintext whose encrypted body still fits MAX_BODY."""

_CURVE = ec.SECP256R1()


def b64url_encode(data: bytes) -> str:
    """Base64url without padding, the form Web Push uses everywhere."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str | bytes) -> bytes:
    """Decode base64url with or without ``=`` padding.

    Standard-alphabet input (``+`` and ``/``) is accepted too because some
    clients serialise ``PushSubscription`` keys that way. Raises ``ValueError``
    on anything that is not base64.
    """
    if isinstance(text, bytes):
        text = text.decode("ascii")
    cleaned = text.strip().replace("+", "-").replace("/", "_").rstrip("=")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"not valid base64url: {exc}") from exc


def max_plaintext(record_size: int = 4096) -> int:
    """Largest plaintext that fits one record of ``record_size`` and a MAX_BODY body."""
    return min(record_size - RECORD_OVERHEAD, MAX_PLAINTEXT)


def load_ua_public_key(ua_public: bytes) -> ec.EllipticCurvePublicKey:
    """Check and parse the subscription's ``p256dh`` key.

    Checking the length and the 0x04 prefix first gives a readable error; the
    point parse then rejects values that are not on the curve.
    """
    if len(ua_public) != UA_PUBLIC_LEN or ua_public[0] != 0x04:
        raise InvalidSubscriptionKeys(
            f"p256dh must be a {UA_PUBLIC_LEN}-byte uncompressed P-256 point starting with 0x04 "
            f"(got {len(ua_public)} bytes)"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, ua_public)
    except ValueError as exc:
        raise InvalidSubscriptionKeys("p256dh is not a valid point on P-256") from exc


def _check_auth(auth_secret: bytes) -> None:
    if len(auth_secret) != AUTH_SECRET_LEN:
        raise InvalidSubscriptionKeys(f"auth must be {AUTH_SECRET_LEN} bytes (got {len(auth_secret)} bytes)")


def validate_subscription_keys(p256dh: str | bytes, auth: str | bytes) -> tuple[bytes, bytes]:
    """Decode and validate a subscription's keys; return ``(ua_public, auth_secret)``.

    Text is treated as base64url (as in ``PushSubscription.toJSON()``), bytes as raw.
    Call this when a browser subscribes so a broken subscription is refused at
    the door rather than at the first push.
    """
    try:
        ua_public = b64url_decode(p256dh) if isinstance(p256dh, str) else p256dh
        auth_secret = b64url_decode(auth) if isinstance(auth, str) else auth
    except ValueError as exc:
        raise InvalidSubscriptionKeys(f"subscription keys are not base64url: {exc}") from exc
    load_ua_public_key(ua_public)
    _check_auth(auth_secret)
    return ua_public, auth_secret


def encrypt_message(
    plaintext: bytes,
    ua_public: bytes,
    auth_secret: bytes,
    *,
    salt: bytes | None = None,
    as_private_key: ec.EllipticCurvePrivateKey | None = None,
    record_size: int = 4096,
) -> bytes:
    """Encrypt one push message; return the complete ``aes128gcm`` body.

    A fresh 16-byte salt and a fresh ephemeral P-256 key are made per call
    unless given: reusing either would let two messages share a content key.
    ``salt`` and ``as_private_key`` exist so tests can reproduce RFC 8291
    Appendix A. The message is always a single record (RFC 8291 §4).
    """
    if not plaintext:
        raise ValueError("an encrypted push message needs a non-empty plaintext")
    limit = max_plaintext(record_size)
    if len(plaintext) > limit:
        raise PayloadTooLarge(f"payload is {len(plaintext)} bytes; at most {limit} bytes fit one push message")
    ua_key = load_ua_public_key(ua_public)
    _check_auth(auth_secret)
    if salt is None:
        salt = os.urandom(SALT_LEN)
    elif len(salt) != SALT_LEN:
        raise ValueError(f"salt must be {SALT_LEN} bytes")
    if as_private_key is None:
        as_private_key = ec.generate_private_key(_CURVE)
    body: bytes = http_ece.encrypt(
        plaintext,
        salt=salt,
        private_key=as_private_key,
        dh=ua_key,
        auth_secret=auth_secret,
        rs=record_size,
        version="aes128gcm",
    )
    return body
