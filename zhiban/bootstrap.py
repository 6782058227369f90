"""`zhiban homeserver bootstrap`: the bot's account on a homeserver of the office's own.

Run once before the bot starts (docker-compose's one-shot `bootstrap` service), and safe to run
again: it registers the bot's account through the shared-secret admin API if it does not exist,
and exempts it from the homeserver's rate limits if it is not yet. A stock Synapse lets one
account send a few messages a second and open a few rooms a minute; the bot, which notifies
every responder of an incident at once, would be throttled exactly when it matters.

The account is made a server admin: that is what lets the bootstrap set the exemption with the
bot's own token and lets `zhiban doctor` read it back later. Every change it makes is audited;
a run that finds everything in place changes nothing and leaves no device behind.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import aiohttp

from records.config import Settings
from zhiban import synapse_admin

__all__ = ["BootstrapError", "BootstrapResult", "bootstrap_bot", "record_changes"]

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
DEVICE_NAME = "zhiban bootstrap (logged out at once)"


class BootstrapError(RuntimeError):
    """Something the operator must fix; the message says what, in plain words."""


@dataclass(frozen=True)
class BootstrapResult:
    user_id: str
    registered: bool  # the account was made by this run
    exempted: bool  # the exemption was set by this run

    @property
    def lines(self) -> list[str]:
        account = "registered" if self.registered else "exists already"
        limits = "now exempt from" if self.exempted else "already exempt from"
        return [f"{self.user_id}: account {account}", f"{self.user_id}: {limits} the homeserver's rate limits"]


async def _wait_for_homeserver(http: aiohttp.ClientSession, base: str, wait: float) -> None:
    """The homeserver answers, or BootstrapError after `wait` seconds (a hang guard only)."""
    deadline = time.monotonic() + wait
    problem = ""
    while True:
        try:
            async with http.get(f"{base}/_matrix/client/versions") as r:
                if r.status == 200:
                    return
                problem = f"HTTP {r.status}"
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            problem = type(exc).__name__
        if time.monotonic() >= deadline:
            raise BootstrapError(
                f"the homeserver at {base} does not answer ({problem}); start it, or fix matrix.homeserver"
            )
        await asyncio.sleep(1)


async def _token(http: aiohttp.ClientSession, base: str, settings: Settings, secret: str) -> tuple[str, bool]:
    """An access token of the bot's account, and whether the account was made just now."""
    user, password = settings.matrix.user_id, settings.matrix.password or ""
    localpart = user[1:].split(":", 1)[0]
    try:
        made = await synapse_admin.register(http, base, secret, localpart, password, admin=True)
    except synapse_admin.AdminApiError as exc:
        if exc.status == 403:
            raise BootstrapError(
                "the homeserver refused the shared secret: it is not the registration_shared_secret "
                f"(or registration_shared_secret_path) of the homeserver at {base} ({exc})"
            ) from None
        raise BootstrapError(f"{exc}; is shared-secret registration enabled on the homeserver?") from None
    if made.created:
        if made.user_id != user:
            raise BootstrapError(
                f"the homeserver made {made.user_id}, not matrix.user_id {user}: the part after ':' must be "
                "the homeserver's server_name. Fix matrix.user_id, and deactivate the account made by mistake."
            )
        if made.access_token:
            return made.access_token, True
    try:
        return await synapse_admin.password_login(http, base, user, password, DEVICE_NAME), made.created
    except synapse_admin.AdminApiError as exc:
        raise BootstrapError(
            f"{user} exists, but the homeserver refused matrix.password for it ({exc}). Put the account's "
            "password in the config, or have its password reset by the homeserver's admin."
        ) from None


async def _exempt(http: aiohttp.ClientSession, base: str, token: str, user: str) -> bool:
    """Set the zero override unless it is there; True when it was set now."""
    try:
        if await synapse_admin.get_override(http, base, token, user) == synapse_admin.EXEMPT:
            return False
        await synapse_admin.set_override(http, base, token, user, synapse_admin.EXEMPT)
    except synapse_admin.AdminApiError as exc:
        if exc.status == 403:
            raise BootstrapError(
                f"{user} is not a server admin of this homeserver, so it cannot exempt itself from the "
                "rate limits. It was registered before, without admin rights: have an admin exempt it "
                f"(POST /_synapse/admin/v1/users/{user}/override_ratelimit with messages_per_second 0 and "
                "burst_count 0), or make it an admin and run this again."
            ) from None
        raise BootstrapError(str(exc)) from None
    return True


async def bootstrap_bot(settings: Settings, shared_secret: str, *, wait: float = 60.0) -> BootstrapResult:
    """Register the bot's account if needed and exempt it from rate limits if needed."""
    if not settings.matrix.password:
        raise BootstrapError(
            "matrix.password is not set: the bootstrap registers the bot with it. Set it in the config "
            "or as ZHIBAN_MATRIX__PASSWORD."
        )
    if not shared_secret.strip():
        raise BootstrapError("the shared secret is empty; give the homeserver's registration_shared_secret")
    base = settings.matrix.homeserver.rstrip("/")
    user = settings.matrix.user_id
    async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
        await _wait_for_homeserver(http, base, wait)
        token, registered = await _token(http, base, settings, shared_secret.strip())
        try:
            exempted = await _exempt(http, base, token, user)
        finally:
            # The token was only for this run: its device is removed again.
            try:
                await synapse_admin.logout(http, base, token)
            except (synapse_admin.AdminApiError, aiohttp.ClientError, TimeoutError):
                pass
    return BootstrapResult(user, registered, exempted)


async def record_changes(settings: Settings, result: BootstrapResult, *, actor: str = "cli") -> int:
    """Audit what this run changed on the homeserver; returns the number of entries written."""
    from records import audit
    from records.db import Database

    changes = [("homeserver.register_bot", result.registered), ("homeserver.exempt_bot", result.exempted)]
    actions = [action for action, changed in changes if changed]
    if not actions:
        return 0
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            for action in actions:
                await audit.record(
                    session,
                    actor=actor,
                    action=action,
                    subject=result.user_id,
                    data={"homeserver": settings.matrix.homeserver},
                )
    finally:
        await db.dispose()
    return len(actions)
