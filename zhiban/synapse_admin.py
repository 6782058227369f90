"""The few homeserver calls Zhiban makes outside the bot: shared-secret registration, the
bot's rate-limit override, and a password login that is logged out again.

Shared-secret registration (`/_synapse/admin/v1/register`) is how an account is made on a
homeserver with open registration switched off: whoever holds the homeserver's
`registration_shared_secret` proves it with an HMAC-SHA1 over a one-time nonce. The rate-limit
override (`/_synapse/admin/v1/users/<id>/override_ratelimit`) needs a server admin's token; a
zero override exempts the account from every per-user rate limit (Synapse reads a zero rate
as "not limited" there, unlike in its config file, where zero means "deny everything").
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

__all__ = [
    "EXEMPT",
    "AdminApiError",
    "Registered",
    "get_override",
    "logout",
    "password_login",
    "register",
    "registration_mac",
    "set_override",
]

REGISTER_PATH = "/_synapse/admin/v1/register"
# No per-second rate and no burst: what Synapse reads as "never rate-limited".
EXEMPT: dict[str, int] = {"messages_per_second": 0, "burst_count": 0}


class AdminApiError(RuntimeError):
    """The homeserver refused an admin call; `errcode` is its Matrix error code, if any."""

    def __init__(self, message: str, *, status: int, errcode: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.errcode = errcode


@dataclass(frozen=True)
class Registered:
    """The outcome of a registration: `created` is False when the account already existed."""

    user_id: str
    created: bool
    access_token: str | None = None


def registration_mac(secret: str, nonce: str, localpart: str, password: str, *, admin: bool) -> str:
    """The HMAC-SHA1 Synapse expects: nonce, user, password and the admin flag, NUL-separated."""
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha1)
    for part in (nonce, localpart, password):
        mac.update(part.encode())
        mac.update(b"\x00")
    mac.update(b"admin" if admin else b"notadmin")
    return mac.hexdigest()


async def _json(response: aiohttp.ClientResponse) -> dict[str, Any]:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return {}
    return body if isinstance(body, dict) else {}


def _error(what: str, status: int, body: dict[str, Any]) -> AdminApiError:
    errcode = str(body.get("errcode", ""))
    detail = f"{errcode}: {body.get('error', '')}".strip(": ") if errcode else ""
    return AdminApiError(f"{what}: HTTP {status}" + (f" {detail}" if detail else ""), status=status, errcode=errcode)


async def register(
    http: aiohttp.ClientSession,
    base: str,
    secret: str,
    localpart: str,
    password: str,
    *,
    admin: bool = False,
) -> Registered:
    """Create `localpart` with the shared secret; an account of that name already there is
    reported (`created=False`), not an error. A new account comes with an access token."""
    async with http.get(base + REGISTER_PATH) as r:
        body = await _json(r)
        if r.status != 200 or "nonce" not in body:
            raise _error("the homeserver gave no registration nonce", r.status, body)
    nonce = str(body["nonce"])
    request = {
        "nonce": nonce,
        "username": localpart,
        "password": password,
        "admin": admin,
        "mac": registration_mac(secret, nonce, localpart, password, admin=admin),
    }
    async with http.post(base + REGISTER_PATH, json=request) as r:
        body = await _json(r)
        if r.status == 200:
            token = body.get("access_token")
            return Registered(str(body["user_id"]), True, str(token) if token else None)
        if body.get("errcode") == "M_USER_IN_USE":
            return Registered("", False)
        raise _error(f"registering {localpart!r} was refused", r.status, body)


def _override_url(base: str, user_id: str) -> str:
    return f"{base}/_synapse/admin/v1/users/{quote(user_id, safe='')}/override_ratelimit"


async def get_override(http: aiohttp.ClientSession, base: str, token: str, user_id: str) -> dict[str, int] | None:
    """The account's rate-limit override, or None when it has none (the server's limits apply)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(_override_url(base, user_id), headers=headers) as r:
        body = await _json(r)
        if r.status != 200:
            raise _error(f"reading the rate-limit override of {user_id}", r.status, body)
    if not body:
        return None
    return {key: int(body.get(key) or 0) for key in EXEMPT}


async def set_override(
    http: aiohttp.ClientSession, base: str, token: str, user_id: str, limits: dict[str, int]
) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(_override_url(base, user_id), headers=headers, json=limits) as r:
        body = await _json(r)
        if r.status != 200:
            raise _error(f"setting the rate-limit override of {user_id}", r.status, body)
    return {key: int(body.get(key) or 0) for key in EXEMPT}


async def password_login(http: aiohttp.ClientSession, base: str, user_id: str, password: str, device_name: str) -> str:
    """A fresh access token for `user_id`; the caller logs it out again when done."""
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "initial_device_display_name": device_name,
    }
    async with http.post(f"{base}/_matrix/client/v3/login", json=body) as r:
        answer = await _json(r)
        if r.status != 200 or not answer.get("access_token"):
            raise _error(f"login as {user_id}", r.status, answer)
    return str(answer["access_token"])


async def logout(http: aiohttp.ClientSession, base: str, token: str) -> None:
    """Remove the device a login made; an account then keeps no trace of the visit."""
    async with http.post(f"{base}/_matrix/client/v3/logout", headers={"Authorization": f"Bearer {token}"}) as r:
        if r.status != 200:
            raise _error("logging out again", r.status, await _json(r))
