"""The signed-in browser: a session cookie signed with the server's secret key (HMAC-SHA256).

The cookie holds the user id, the time it was issued and the secret of a server-side session
row (notifications.sessions). The signature turns away forged or garbled cookies without a
database lookup; the row is what makes sign-out, "sign out everywhere" and an admin's revoke
take effect at once, on every copy of the server. The cookie is HttpOnly (page scripts cannot
read it) and SameSite=Lax; state-changing requests are also checked for their origin
(server.origin).
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

from notifications import sessions
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

    def sign(self, user_id: str, issued_at: int, secret: str) -> str:
        payload = _b64(json.dumps([user_id, issued_at, secret], separators=(",", ":")).encode())
        mac = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        return f"{payload}.{_b64(mac)}"

    def verify(self, value: str | None, now: int) -> tuple[str, str] | None:
        """(user id, session secret) of a validly signed, unexpired cookie; None for anything else."""
        if not value or len(value) > 1024 or value.count(".") != 1:
            return None
        payload, mac_text = value.split(".")
        expected = hmac.new(self.key, payload.encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(mac_text)):
                return None
            user_id, issued_at, secret = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            return None
        if not isinstance(user_id, str) or not isinstance(issued_at, int) or not isinstance(secret, str):
            return None
        if not issued_at - 300 <= now < issued_at + self.max_age:
            return None
        return user_id, secret

    def set_cookie(self, response: Response, user_id: str, secret: str, now: int, *, secure: bool) -> None:
        response.set_cookie(
            COOKIE,
            self.sign(user_id, now, secret),
            max_age=self.max_age,
            httponly=True,
            samesite="lax",
            secure=secure,
            path="/",
        )


BEARER = "bearer "
WIDGET_API = "/api/board"  # the board widget's own routes: this path and those under it


def bearer_secret(request: Request) -> str | None:
    """The session secret of a widget (server.widget_auth): `Authorization: Bearer <secret>`, or
    `access_token=` on the live stream, which an EventSource cannot send headers with. A widget
    has no cookie (a framed page does not get a SameSite=Lax one), and a token no other site's
    page can attach makes its requests safe from cross-site forgery."""
    path = request.url.path
    if path != WIDGET_API and not path.startswith(WIDGET_API + "/"):
        # A widget's token opens the board's own API only: never the step-up pages (enrolling
        # an authenticator, confirming 签发), which need the person's own signed-in browser.
        return None
    header = request.headers.get("authorization", "")
    if header[: len(BEARER)].lower() == BEARER:
        return header[len(BEARER) :].strip() or None
    if path == "/api/board/events":
        return request.query_params.get("access_token") or None
    return None


def session_secret(request: Request) -> str:
    """The secret of the session this request claims (bearer first, then cookie); "" for none."""
    bearer = bearer_secret(request)
    if bearer is not None:
        return bearer
    signed = cookie_session(request)
    return signed[1] if signed is not None else ""


def cookie_session(request: Request) -> tuple[str, str] | None:
    """(user id, session secret) from a validly signed cookie, before any database lookup."""
    state = request.app.state.push
    signer: SessionSigner = state.signer
    return signer.verify(request.cookies.get(COOKIE), int(state.clock.now().timestamp()))


async def current_user(request: Request) -> str:
    """FastAPI dependency: the signed-in user, or 401 with a message that says how to sign in.

    Each signed-in request also counts against the person's own rate limit."""
    state = request.app.state.push
    bearer = bearer_secret(request)
    if bearer is not None:
        # A widget's token: the row alone says whose it is (no cookie is looked at).
        async with state.db.reading() as session:
            user = await sessions.find(session, bearer, clock=state.clock)
        if user is None:
            raise ApiError(
                401,
                "bad_token",
                "the widget's token is invalid or expired; sign in again",
                message_zh="小组件的令牌无效或已过期，请重新登录。",
            )
        state.limits.charge_user(user)
        return user
    raw = request.cookies.get(COOKIE)
    signed = cookie_session(request)
    user = None
    if signed is not None:
        async with state.db.reading() as session:
            found = await sessions.find(session, signed[1], clock=state.clock)
        # A row of someone else under a cookie signed for this user is a forgery too.
        user = found if found == signed[0] else None
    if user is None:
        if raw:
            raise ApiError(
                401,
                "bad_session",
                "the session cookie is invalid, expired or signed out; send !push again",
                message_zh="登录已失效或已退出，请在聊天中向值班助手发送 !推送 重新获取链接。",
            )
        raise ApiError(
            401,
            "not_signed_in",
            "not signed in: send !push to Zhiban in chat and open the link",
            message_zh="尚未登录：请在聊天中向值班助手发送 !推送 并打开链接。",
        )
    state.limits.charge_user(user)
    return user


async def optional_user(request: Request) -> str | None:
    try:
        return await current_user(request)
    except ApiError:
        return None
