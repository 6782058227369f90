"""VAPID (RFC 8292): application-server identification for Web Push.

Signing an ES256 JWT is cheap but not free, and push services only need one
valid token per origin, so ``VapidSigner`` keeps one ``Authorization`` header
per push-service origin and re-signs it shortly before it expires. Each token
is built from a fresh claims dict: a dict shared between origins (as some
libraries do) ends up with the wrong ``aud`` for one of them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from notifications.webpush.crypto import b64url_decode, b64url_encode
from notifications.webpush.errors import InvalidVapidConfig

__all__ = [
    "DEFAULT_TOKEN_LIFETIME",
    "MAX_TOKEN_LIFETIME",
    "VapidSigner",
    "endpoint_origin",
    "generate_vapid_keys",
    "load_vapid_private_key",
]

MAX_TOKEN_LIFETIME = 24 * 3600
"""RFC 8292 §2: push services reject an ``exp`` more than 24 hours ahead."""
DEFAULT_TOKEN_LIFETIME = 12 * 3600
DEFAULT_REFRESH_MARGIN = 3600
"""Re-sign when less than this is left, so a token never expires in flight or during retries."""

_CURVE = ec.SECP256R1()
# The JOSE header never changes, so encode it once.
_JWT_HEADER = b64url_encode(json.dumps({"typ": "JWT", "alg": "ES256"}, separators=(",", ":")).encode())


def generate_vapid_keys() -> tuple[str, str]:
    """Make a new VAPID key pair for a config file.

    Returns ``(private_key, public_key)``: the private key as the base64url raw
    32-byte scalar (the form web-push tools print), the public key as the
    base64url uncompressed point that browsers take as ``applicationServerKey``.
    """
    key = ec.generate_private_key(_CURVE)
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url_encode(scalar), _public_key_b64url(key)


def _public_key_b64url(key: ec.EllipticCurvePrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url_encode(raw)


def load_vapid_private_key(value: str | bytes | ec.EllipticCurvePrivateKey) -> ec.EllipticCurvePrivateKey:
    """Accept a key object, PEM text, a base64url raw scalar or base64url DER (pywebpush's form)."""
    if isinstance(value, ec.EllipticCurvePrivateKey):
        key = value
    else:
        text = value.decode("ascii") if isinstance(value, bytes) else value
        text = text.strip()
        try:
            if text.startswith("-----BEGIN"):
                loaded = serialization.load_pem_private_key(text.encode("ascii"), password=None)
            else:
                raw = b64url_decode(text)
                if len(raw) == 32:
                    loaded = ec.derive_private_key(int.from_bytes(raw, "big"), _CURVE)
                else:
                    loaded = serialization.load_der_private_key(raw, password=None)
        except (ValueError, TypeError) as exc:
            raise InvalidVapidConfig(f"cannot load the VAPID private key: {exc}") from exc
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise InvalidVapidConfig("the VAPID private key must be an EC key")
        key = loaded
    if not isinstance(key.curve, ec.SECP256R1):
        raise InvalidVapidConfig("the VAPID private key must be on P-256")
    return key


def endpoint_origin(endpoint: str) -> str:
    """``scheme://host[:port]`` of a push endpoint: the JWT ``aud`` and the session key."""
    parts = urlsplit(endpoint)
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"not an absolute URL: {endpoint!r}")
    host = parts.hostname
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    port = parts.port
    if port is None or port == default_port:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


@dataclass(frozen=True, slots=True)
class _CachedToken:
    header: str
    expires_at: int


class VapidSigner:
    """Produce ``Authorization: vapid t=<jwt>, k=<public key>`` headers, cached per origin.

    ``clock`` returns Unix seconds and is injectable for tests. The signer is
    safe to share between threads and event loops; signing happens at most
    once per origin per ``lifetime - refresh_margin`` seconds.
    """

    def __init__(
        self,
        private_key: str | bytes | ec.EllipticCurvePrivateKey,
        subject: str,
        *,
        lifetime: int = DEFAULT_TOKEN_LIFETIME,
        refresh_margin: int = DEFAULT_REFRESH_MARGIN,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not (subject.startswith("mailto:") or subject.startswith("https://")):
            raise InvalidVapidConfig("the VAPID subject must be a mailto: or https:// URI")
        if not 0 < lifetime <= MAX_TOKEN_LIFETIME:
            raise InvalidVapidConfig(f"token lifetime must be in (0, {MAX_TOKEN_LIFETIME}] seconds")
        if not 0 <= refresh_margin < lifetime:
            raise InvalidVapidConfig("refresh_margin must be shorter than the token lifetime")
        self._key = load_vapid_private_key(private_key)
        self.subject = subject
        self.public_key = _public_key_b64url(self._key)
        """Base64url uncompressed point; give it to browsers as ``applicationServerKey``."""
        self._lifetime = lifetime
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._cache: dict[str, _CachedToken] = {}
        self._lock = threading.Lock()
        self.signatures_made = 0
        """How many JWTs were signed; lets tests and metrics see the cache working."""

    def sign_jwt(self, audience: str, expires_at: int) -> str:
        """Sign a fresh ES256 JWT for ``audience`` (an origin) expiring at ``expires_at``."""
        claims = {"aud": audience, "exp": expires_at, "sub": self.subject}
        payload = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
        signing_input = f"{_JWT_HEADER}.{payload}".encode("ascii")
        der = self._key.sign(signing_input, ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        # JWS wants the raw 64-byte r || s, not the DER structure cryptography returns.
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        self.signatures_made += 1
        return f"{signing_input.decode('ascii')}.{b64url_encode(signature)}"

    def authorization(self, endpoint: str) -> str:
        """The ``Authorization`` header value for a push to ``endpoint``."""
        origin = endpoint_origin(endpoint)
        now = int(self._clock())
        cached = self._cache.get(origin)
        if cached is not None and now < cached.expires_at - self._refresh_margin:
            return cached.header
        with self._lock:
            cached = self._cache.get(origin)
            if cached is not None and now < cached.expires_at - self._refresh_margin:
                return cached.header
            expires_at = now + self._lifetime
            header = f"vapid t={self.sign_jwt(origin, expires_at)}, k={self.public_key}"
            self._cache[origin] = _CachedToken(header, expires_at)
            return header
