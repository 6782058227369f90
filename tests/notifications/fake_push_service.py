"""An in-repo fake Web Push service (aiohttp.web) for tests and the fan-out benchmark.

It behaves like a strict push service: it checks the VAPID JWT (ES256 with
the ``k=`` key, ``aud`` equal to its own origin, ``exp`` in the future and at
most 24 hours ahead), requires a TTL, refuses bodies over 4096 bytes, and
decrypts the aes128gcm body with the subscription's private key, which it
keeps because it mints browser-like subscriptions itself. The checks are
written independently of ``notifications.webpush.vapid`` on purpose.

Replies can be scripted per subscription (404, 410, 413, 429 + Retry-After,
500 then 201, ...). ``decrypt_every``/``keep_messages`` make a "fast mode"
for the benchmark, where the fake must not be the bottleneck.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import ipaddress
import itertools
import json
import os
import ssl
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import http_ece
from aiohttp import web
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True)
class FakeSubscription:
    """What ``pushManager.subscribe()`` would hand a page, plus the browser-side private key."""

    id: str
    endpoint: str
    p256dh: str
    auth: str
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


@dataclass(frozen=True)
class Reply:
    """A scripted answer for the next request to one subscription."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class ReceivedPush:
    """A message the fake accepted (answered 2xx)."""

    sub_id: str
    plaintext: bytes | None
    ttl: str | None
    urgency: str | None
    topic: str | None
    headers: dict[str, str]
    jwt_claims: dict[str, Any]


@dataclass
class RequestLog:
    """Every request, whatever the answer."""

    sub_id: str
    status: int
    error: str | None
    at: float


class JwtError(Exception):
    pass


class FakePushService:
    """Run with ``async with FakePushService() as svc:``; ``svc.origin`` is ``http://127.0.0.1:<port>``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        decrypt_every: int = 1,
        keep_messages: bool = True,
        response_delay: float = 0.0,
        clock: Callable[[], float] = time.time,
        tls_dir: Path | None = None,
    ) -> None:
        self.host = host
        self.tls_dir = tls_dir
        """Serve https with a certificate made for the host, written to `tls_dir/cert.pem` (the
        file a client trusts, e.g. through SSL_CERT_FILE); plain http when None."""
        self.port = port
        self.decrypt_every = decrypt_every
        self.keep_messages = keep_messages
        self.response_delay = response_delay
        """Seconds each request is held before answering, to make concurrency observable."""
        self._clock = clock
        self._subs: dict[str, FakeSubscription] = {}
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._verified_tokens: dict[tuple[str, str], dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self._counter = 0
        self.received: list[ReceivedPush] = []
        self.requests: list[RequestLog] = []
        self.errors: list[str] = []
        self.delivered_count = 0
        self.decrypted_count = 0
        self.in_flight = 0
        self.max_in_flight_seen = 0
        self.peers: set[tuple[str, int]] = set()
        """Distinct client (host, port) pairs, i.e. TCP connections opened to the fake."""
        self._runner: web.AppRunner | None = None

    # -- lifecycle -----------------------------------------------------------------
    async def start(self) -> str:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post("/push/{sub_id}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        context = None if self.tls_dir is None else _tls_context(self.host, self.tls_dir)
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, ssl_context=context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self.port = sockets[0].getsockname()[1]
        return self.origin

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakePushService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def origin(self) -> str:
        return f"{'http' if self.tls_dir is None else 'https'}://{self.host}:{self.port}"

    @property
    def cert_file(self) -> Path | None:
        return None if self.tls_dir is None else self.tls_dir / "cert.pem"

    # -- test helpers --------------------------------------------------------------
    def create_subscription(self) -> FakeSubscription:
        """Mint a browser-like subscription: a P-256 key pair and a 16-byte auth secret."""
        key = ec.generate_private_key(ec.SECP256R1())
        raw = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        sub_id = f"{next(self._ids)}-{os.urandom(6).hex()}"
        sub = FakeSubscription(
            id=sub_id,
            endpoint=f"{self.origin}/push/{sub_id}",
            p256dh=_b64e(raw),
            auth=_b64e(os.urandom(16)),
            private_key=key,
        )
        self._subs[sub_id] = sub
        return sub

    def forget(self, sub: FakeSubscription) -> None:
        """Make the endpoint unknown (the fake then answers 404, like an expired subscription)."""
        self._subs.pop(sub.id, None)

    def script(self, sub: FakeSubscription, *replies: Reply) -> None:
        """Queue replies for the next requests to ``sub``; afterwards it answers 201 again."""
        self._scripts[sub.id].extend(replies)

    def messages_for(self, sub: FakeSubscription) -> list[ReceivedPush]:
        return [m for m in self.received if m.sub_id == sub.id]

    def attempts_for(self, sub: FakeSubscription) -> list[RequestLog]:
        return [r for r in self.requests if r.sub_id == sub.id]

    # -- checks --------------------------------------------------------------------
    def verify_vapid(self, authorization: str | None) -> dict[str, Any]:
        """Check ``Authorization: vapid t=<jwt>, k=<key>`` the way RFC 8292 §3 says."""
        if not authorization or not authorization.startswith("vapid "):
            raise JwtError("missing 'vapid' Authorization header")
        params: dict[str, str] = {}
        for part in authorization[len("vapid ") :].split(","):
            name, _, value = part.strip().partition("=")
            params[name] = value
        token, key_text = params.get("t"), params.get("k")
        if not token or not key_text:
            raise JwtError("Authorization needs both t= and k=")
        cached = self._verified_tokens.get((token, key_text))
        if cached is None:
            cached = self._verify_signature(token, key_text)
            self._verified_tokens[(token, key_text)] = cached
        now = self._clock()
        if cached.get("aud") != self.origin:
            raise JwtError(f"aud {cached.get('aud')!r} is not {self.origin!r}")
        exp = cached.get("exp")
        if not isinstance(exp, int) or exp <= now:
            raise JwtError("JWT expired or exp missing")
        if exp > now + 24 * 3600:
            raise JwtError("exp more than 24 hours ahead")
        sub = cached.get("sub", "")
        if not (isinstance(sub, str) and (sub.startswith("mailto:") or sub.startswith("https://"))):
            raise JwtError("sub must be mailto: or https:")
        return cached

    @staticmethod
    def _verify_signature(token: str, key_text: str) -> dict[str, Any]:
        try:
            header_b64, claims_b64, sig_b64 = token.split(".")
            header = json.loads(_b64d(header_b64))
            claims = json.loads(_b64d(claims_b64))
            sig = _b64d(sig_b64)
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), _b64d(key_text))
        except (ValueError, json.JSONDecodeError) as exc:
            raise JwtError(f"malformed JWT or key: {exc}") from exc
        if header.get("alg") != "ES256":
            raise JwtError("alg must be ES256")
        if len(sig) != 64:
            raise JwtError("ES256 signature must be 64 bytes")
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        try:
            public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as exc:
            raise JwtError("bad JWT signature") from exc
        if not isinstance(claims, dict):
            raise JwtError("claims must be an object")
        return claims

    # -- handler -------------------------------------------------------------------
    def _log(self, sub_id: str, status: int, error: str | None = None) -> None:
        if self.keep_messages or error:
            self.requests.append(RequestLog(sub_id, status, error, self._clock()))
        if error:
            self.errors.append(error)

    async def _handle(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            self.peers.add((str(peer[0]), int(peer[1])))
        self.in_flight += 1
        self.max_in_flight_seen = max(self.max_in_flight_seen, self.in_flight)
        try:
            if self.response_delay:
                await asyncio.sleep(self.response_delay)
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["sub_id"]
        body = await request.read()
        sub = self._subs.get(sub_id)
        if sub is None:
            self._log(sub_id, 404)
            return web.Response(status=404, text="no such subscription")
        try:
            claims = self.verify_vapid(request.headers.get("Authorization"))
        except JwtError as exc:
            self._log(sub_id, 401, f"vapid: {exc}")
            return web.Response(status=401, text=str(exc))
        ttl = request.headers.get("TTL")
        if ttl is None or not ttl.isdigit():
            self._log(sub_id, 400, "missing or bad TTL header")
            return web.Response(status=400, text="TTL header required")
        if len(body) > 4096:
            self._log(sub_id, 413, None)
            return web.Response(status=413, text="payload too large")
        script = self._scripts.get(sub_id)
        if script:
            reply = script.popleft()
            self._log(sub_id, reply.status)
            return web.Response(status=reply.status, headers=reply.headers, body=reply.body)

        plaintext: bytes | None = None
        self._counter += 1
        if body and self.decrypt_every and self._counter % self.decrypt_every == 0:
            if request.headers.get("Content-Encoding") != "aes128gcm":
                self._log(sub_id, 400, "Content-Encoding must be aes128gcm")
                return web.Response(status=400, text="bad Content-Encoding")
            try:
                plaintext = http_ece.decrypt(
                    body, private_key=sub.private_key, auth_secret=_b64d(sub.auth), version="aes128gcm"
                )
            except Exception as exc:  # http_ece raises several types; any of them means a bad body
                self._log(sub_id, 400, f"decrypt: {exc!r}")
                return web.Response(status=400, text="cannot decrypt")
            self.decrypted_count += 1
        self.delivered_count += 1
        self._log(sub_id, 201)
        if self.keep_messages:
            self.received.append(
                ReceivedPush(
                    sub_id=sub_id,
                    plaintext=plaintext,
                    ttl=ttl,
                    urgency=request.headers.get("Urgency"),
                    topic=request.headers.get("Topic"),
                    headers=dict(request.headers),
                    jwt_claims=claims,
                )
            )
        return web.Response(status=201, headers={"Location": f"{self.origin}/m/{self._counter}"})


def _tls_context(host: str, folder: Path) -> ssl.SSLContext:
    """A self-signed certificate for `host` (an IP address), like a push service's, and a server
    context with it; the certificate is left in `folder` for the clients to trust."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def serve_in_process(conn: Any, n_subscriptions: int, decrypt_every: int, tls_dir: str | None = None) -> None:
    """Process entry point for the benchmark: serve in fast mode until told to stop.

    Sends ``(origin, [subscription json...])`` over ``conn`` once listening,
    then waits for any message on ``conn`` and answers it with
    ``{"delivered", "decrypted", "errors", "cpu_seconds"}`` before exiting.
    """

    async def main() -> None:
        svc = FakePushService(
            decrypt_every=decrypt_every, keep_messages=False, tls_dir=None if tls_dir is None else Path(tls_dir)
        )
        async with svc:
            subs = [svc.create_subscription().to_json() for _ in range(n_subscriptions)]
            conn.send((svc.origin, subs))
            loop = asyncio.get_running_loop()
            cpu_start = time.process_time()
            await loop.run_in_executor(None, conn.recv)
            conn.send(
                {
                    "delivered": svc.delivered_count,
                    "decrypted": svc.decrypted_count,
                    "errors": svc.errors[:20],
                    "cpu_seconds": time.process_time() - cpu_start,
                }
            )

    asyncio.run(main())
