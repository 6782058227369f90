"""The signed-in browser: a session cookie signed with the server's secret key (HMAC-SHA256).

The cookie holds the user id and the time it was issued, so any copy of the server can check
it without a database lookup. It is HttpOnly (page scripts cannot read it) and SameSite=Lax
(other sites cannot make the browser send it with their POSTs).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from server.errors import ApiError

log = logging.getLogger(__name__)

COOKIE = "zhiban_session"
_CONTEXT = b"zhiban.push.session.v1"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SessionSigner:
    key: bytes
    max_age: int

    @classmethod
    def from_secret(cls, secret: str, *, max_age: int) -> SessionSigner:
        if not secret:
            # Works for one process only: sessions end when it restarts, and copies disagree.
            log.warning("server.secret_key is not set: browser sign-ins will not survive a restart")
            secret = secrets.token_hex(32)
        key = hmac.new(secret.encode(), _CONTEXT, hashlib.sha256).digest()
        return cls(key, max_age)

    def sign(self, user_id: str, issued_at: int) -> str:
        payload = _b64(json.dumps([user_id, issued_at], separators=(",", ":")).encode())
        mac = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(mac)}"

    def verify(self, value: str | None, now: int) -> str | None:
        """The user id in a valid, unexpired cookie; None for anything else."""
        if not value or len(value) > 1024 or value.count(".") != 1:
            return None
        payload, mac_text = value.split(".")
        expected = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(mac_text)):
                return None
            user_id, issued_at = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(user_id, str) or not isinstance(issued_at, int):
            return None
        if not issued_at - 300 <= now < issued_at + self.max_age:
            return None
        return user_id

    def set_cookie(self, response: Response, user_id: str, now: int, *, secure: bool) -> None:
        response.set_cookie(
            COOKIE,
            self.sign(user_id, now),
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )


def current_user(request: Request) -> str:
    """FastAPI dependency: the signed-in user, or 401 with a message that says how to sign in."""
    state = request.app.state.push
    signer: SessionSigner = state.signer
    now = int(state.clock.now().timestamp())
    raw = request.cookies.get(COOKIE)
    user = signer.verify(raw, now)
    if user is None:
        if raw:
            raise ApiError(401, "bad_session", "the session cookie is invalid or expired; send !push in chat again")
        raise ApiError(401, "not_signed_in", "not signed in: send !push to Zhiban in chat and open the link")
    return user


def optional_user(request: Request) -> str | None:
    try:
        return current_user(request)
    except ApiError:
        return None
