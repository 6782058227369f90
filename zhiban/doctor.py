"""`zhiban doctor`: checks each part Zhiban needs and says in plain words what to do.

The doctor looks and changes nothing: no folder or database file is created, no migration
runs, and the bot's login it tries is logged out again. Each check ends in ✔ (fine), ⚠ (works,
but worth a look, or not set up yet) or ✘ (Zhiban will not work until it is fixed); only ✘
makes the command fail. A check that breaks in an unforeseen way is a ✘ line, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from records.config import Settings
from zhiban.redis_conn import LOCAL_URL, embedded_version
from zhiban.synapse_admin import EXEMPT, AdminApiError, get_override

log = logging.getLogger(__name__)

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=10)
REDIS_TIMEOUT = 2.0


class Status(Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass
class Check:
    name: str
    status: Status
    message: str

    @property
    def ok(self) -> bool:
        """False only for a failure: a warning does not stop Zhiban."""
        return self.status is not Status.FAIL


def _first_line(exc: BaseException) -> str:
    """An error's own words, whole (never cut mid-word), without the driver's extra lines."""
    # SQLAlchemy wraps the driver's error (asyncpg's names the missing database or the bad password).
    while (inner := getattr(exc, "orig", None) or exc.__cause__) is not None:
        exc = inner
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def _without_password(url: str) -> str:
    """A URL fit to print: the password in it replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = f"{parts.username}:***@" if parts.username else ":***@"
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=user + host))
    except ValueError:
        return "(the URL, hidden: it cannot be read)"


# -- the homeserver and the bot's account -----------------------------------------------------


async def check_homeserver(settings: Settings) -> Check:
    url = settings.matrix.homeserver.rstrip("/") + "/_matrix/client/versions"
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http, http.get(url) as r:
            if r.status == 200:
                return Check("homeserver", Status.OK, f"{settings.matrix.homeserver} answers")
            return Check("homeserver", Status.FAIL, f"{url} answered HTTP {r.status}; is this a Matrix homeserver?")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Check(
            "homeserver",
            Status.FAIL,
            f"cannot reach {settings.matrix.homeserver} ({type(exc).__name__}). Start it, or set "
            "matrix.homeserver in the config. `zhiban up` runs a local one.",
        )


def _saved_token(settings: Settings) -> str | None:
    """The access token the bot saved at its last login (read only; the file is not touched)."""
    path = settings.data_dir / "bot-store" / "session.json"
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if isinstance(saved, dict) and saved.get("user_id") == settings.matrix.user_id:
        token = saved.get("access_token")
        return str(token) if token else None
    return None


async def _matrix_error(response: aiohttp.ClientResponse) -> str:
    try:
        body = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return f"HTTP {response.status}"
    if isinstance(body, dict) and body.get("errcode"):
        return f"HTTP {response.status} {body['errcode']}: {body.get('error', '')}".rstrip(": ")
    return f"HTTP {response.status}"


async def _check_token(http: aiohttp.ClientSession, base: str, settings: Settings, token: str, source: str) -> Check:
    user = settings.matrix.user_id
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get(f"{base}/_matrix/client/v3/account/whoami", headers=headers) as r:
        if r.status == 200:
            who = (await r.json(content_type=None)).get("user_id")
            if who != user:
                return Check(
                    "bot account",
                    Status.FAIL,
                    f"{source} belongs to {who}, not to matrix.user_id {user}; fix one of them",
                )
            return Check("bot account", Status.OK, f"{source} is valid for {user}")
        problem = await _matrix_error(r)
    if settings.matrix.password:
        return Check(
            "bot account", Status.WARN, f"{source} is refused ({problem}); the bot will log in with the password"
        )
    return Check(
        "bot account",
        Status.FAIL,
        f"{source} is refused ({problem}) and matrix.password is not set: the bot cannot log in. "
        "Set matrix.password (or ZHIBAN_MATRIX__PASSWORD).",
    )


async def _check_password(
    http: aiohttp.ClientSession, base: str, settings: Settings, *, limits: list[Check] | None = None
) -> Check:
    """Log in as the bot with its password, then log that session out again. Given `limits`,
    the bot's rate-limit exemption is checked with that session and the result added there."""
    user = settings.matrix.user_id
    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": settings.matrix.password,
        "initial_device_display_name": "zhiban doctor (logged out at once)",
    }
    async with http.post(f"{base}/_matrix/client/v3/login", json=body) as r:
        if r.status != 200:
            problem = await _matrix_error(r)
            if r.status == 403:
                return Check(
                    "bot account",
                    Status.FAIL,
                    f"the homeserver refused matrix.password for {user} ({problem}): the password is wrong or the "
                    "account does not exist. Fix matrix.password, or register the account.",
                )
            if r.status == 429:
                return Check("bot account", Status.WARN, f"login as {user} was rate-limited ({problem}); try again")
            return Check("bot account", Status.FAIL, f"login as {user} failed: {problem}")
        token = (await r.json(content_type=None)).get("access_token")
    if limits is not None:
        limits.append(await check_rate_limits(http, base, user, token))
    # The device the login made is removed again: the doctor leaves nothing behind.
    async with http.post(f"{base}/_matrix/client/v3/logout", headers={"Authorization": f"Bearer {token}"}) as r:
        if r.status != 200:
            return Check(
                "bot account",
                Status.WARN,
                f"logged in as {user}, but could not log out again ({await _matrix_error(r)}); "
                "remove the device 'zhiban doctor' in a Matrix client",
            )
    return Check("bot account", Status.OK, f"logged in as {user} with matrix.password (and out again)")


async def check_bot_account(settings: Settings, *, reachable: bool = True) -> list[Check]:
    """The credentials the bot will use work on the homeserver (tried only when it answers)."""
    m = settings.matrix
    token, source = (m.access_token, "matrix.access_token") if m.access_token else (_saved_token(settings), "")
    source = source or "the access token saved by the bot's last login"
    if not token and not m.password:
        return [
            Check(
                "bot account",
                Status.FAIL,
                f"matrix.password is not set (nor matrix.access_token): the bot cannot log in as {m.user_id}. "
                "Set it in the config or as ZHIBAN_MATRIX__PASSWORD.",
            )
        ]
    if not reachable:
        return []
    base = m.homeserver.rstrip("/")
    checks: list[Check] = []
    limits: list[Check] = []
    try:
        async with aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http:
            if token:
                checks.append(await _check_token(http, base, settings, token, source))
                if checks[-1].status is Status.OK:
                    limits.append(await check_rate_limits(http, base, m.user_id, token))
            if m.password:
                # The exemption is asked once: with the password's session when no token was good.
                checks.append(await _check_password(http, base, settings, limits=None if limits else limits))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        checks.append(Check("bot account", Status.FAIL, f"cannot log in: {_first_line(exc)}"))
    return checks + limits


async def check_rate_limits(http: aiohttp.ClientSession, base: str, user: str, token: str) -> Check:
    """Whether the bot is exempt from the homeserver's rate limits, asked with the bot's own
    token (Synapse answers server admins only). Anything short of a yes is a warning: the bot
    works, but is slowed or refused when it writes to many people at once."""
    warn = partial(Check, "rate limits", Status.WARN)
    ask = (
        f"ask the homeserver's admin to exempt {user} from rate limits (Synapse: POST "
        f"/_synapse/admin/v1/users/{user}/override_ratelimit with messages_per_second 0 and burst_count 0); "
        "docs/deploy.md explains why"
    )
    try:
        override = await get_override(http, base, token, user)
    except AdminApiError as exc:
        if exc.status in (401, 403):
            return warn(
                f"cannot see whether {user} is exempt from the homeserver's rate limits: it is not a server admin. "
                f"On a homeserver of your own, run `zhiban homeserver bootstrap`; otherwise {ask}"
            )
        return warn(f"cannot read {user}'s rate limits ({exc}); {ask}")
    if override is None:
        return warn(
            f"{user} is held to the homeserver's rate limits: an incident with many responders or many direct "
            "chats at once is slowed or refused. Run `zhiban homeserver bootstrap` to exempt it"
        )
    if override != EXEMPT:
        return warn(
            f"{user} has a rate limit of its own ({override['messages_per_second']}/s, burst "
            f"{override['burst_count']}); run `zhiban homeserver bootstrap` to lift it"
        )
    return Check("rate limits", Status.OK, f"{user} is exempt from the homeserver's rate limits")


# -- the database ---------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_sqlite(path: Path) -> Check:
    """Read the SQLite file if there is one; never create it (or its folder)."""
    if not path.exists():
        folder = _nearest_existing(path.parent)
        if not folder.is_dir() or not _writable(folder):
            return Check(
                "database",
                Status.FAIL,
                f"{path} does not exist and cannot be created: {folder} is not a folder this user may write to. "
                "Fix data_dir, or set database.url.",
            )
        return Check(
            "database", Status.WARN, f"{path} does not exist yet; the first start (or `zhiban db upgrade`) creates it"
        )
    try:
        # Read-only: no journal, no WAL file, no schema change.
        with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.Error as exc:
        return Check("database", Status.FAIL, f"cannot read {path} ({_first_line(exc)}); is it a SQLite database?")
    return Check("database", Status.OK, f"SQLite at {path}")


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


async def check_database(settings: Settings) -> Check:
    if not settings.database.url:
        return _check_sqlite((settings.data_dir / "zhiban.db").resolve())
    try:
        url = make_url(settings.database.url)
    except ArgumentError:
        return Check(
            "database",
            Status.FAIL,
            "database.url is not a database URL; write postgresql://user:password@host:5432/name, "
            "or leave it empty to use SQLite under the data folder.",
        )
    if settings.database.password:  # given apart from the URL (docker-compose does), as the processes use it
        url = url.set(password=settings.database.password)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite":
        return _check_sqlite(Path(url.database or ""))
    if url.get_backend_name() != "postgresql":
        return Check("database", Status.FAIL, f"{shown}: Zhiban runs on PostgreSQL or SQLite only")
    from records.db import Database

    try:
        db = Database(url.render_as_string(hide_password=False))
    except Exception as exc:  # an unknown driver, a bad option in the URL
        return Check("database", Status.FAIL, f"cannot use {shown}: {_first_line(exc)}. Check database.url.")
    try:
        async with db.reading() as session:
            await session.execute(text("SELECT 1"))
        return Check("database", Status.OK, f"{url.host}:{url.port or 5432}/{url.database}")
    except Exception as exc:
        return Check(
            "database",
            Status.FAIL,
            f"cannot open {shown}: {_first_line(exc)}. Check database.url (host, port, user, password, name).",
        )
    finally:
        await db.dispose()


# -- Redis ----------------------------------------------------------------------------------


def _probe_redis(url: str) -> str | None:
    """None when Redis at `url` answers; else what is wrong, in plain words."""
    shown = _without_password(url)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
    except ValueError as exc:
        if "://" not in url or url.split("://", 1)[0] not in ("redis", "rediss", "unix"):
            return f"{shown} is not a Redis URL: it must start with redis://, rediss:// or unix://"
        return f"{shown} is not a valid Redis URL ({exc})"
    try:
        client.ping()
    except redis.AuthenticationError:
        return f"Redis at {shown} refused the password (or user) in the URL"
    except redis.ResponseError as exc:
        db = client.connection_pool.connection_kwargs.get("db", 0)
        if "DB index is out of range" in str(exc):
            return (
                f"Redis at {shown} answers, but has no database {db}: use a number below its `databases` setting "
                "(0 to 15 by default)"
            )
        return f"Redis at {shown} answers with an error: {exc}"
    except (redis.RedisError, OSError) as exc:
        return f"Redis at {shown} does not answer ({_first_line(exc)}). Start it, or fix redis.url."
    finally:
        client.close()
    return None


def _redis_version(url: str) -> str:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT)
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]  # sync client
        client.close()
        return f" (Redis {info.get('redis_version')})" if info.get("redis_version") else ""
    except (redis.RedisError, OSError):
        return ""


def check_redis(settings: Settings) -> Check:
    embedded = embedded_version()
    embedded_note = f"; embedded redis-server {embedded} for `zhiban up`" if embedded else ""
    if settings.redis.url:
        problem = _probe_redis(settings.redis.url)
        if problem:
            return Check("redis", Status.FAIL, problem)
        shown = _without_password(settings.redis.url)
        return Check("redis", Status.OK, shown + _redis_version(settings.redis.url) + embedded_note)
    if _probe_redis(LOCAL_URL) is None:
        # Works, but shared with anything else on this machine.
        return Check(
            "redis",
            Status.WARN,
            f"redis.url is not set: using {LOCAL_URL}{_redis_version(LOCAL_URL)}, shared with whatever else uses it; "
            f"set redis.url{embedded_note}",
        )
    return Check(
        "redis",
        Status.WARN,
        "no Redis configured or on localhost: `zhiban up` starts an embedded one; "
        f"`zhiban worker` alone needs redis.url{embedded_note}",
    )


# -- voice ----------------------------------------------------------------------------------


def check_ffmpeg(settings: Settings) -> Check:
    if not settings.voice.enabled:
        return Check("ffmpeg", Status.OK, "not needed: voice.enabled is off")
    if found := shutil.which("ffmpeg"):
        return Check("ffmpeg", Status.OK, found)
    try:
        import imageio_ffmpeg

        return Check("ffmpeg", Status.OK, f"bundled: {imageio_ffmpeg.get_ffmpeg_exe()}")
    except Exception:
        return Check(
            "ffmpeg",
            Status.FAIL,
            "no ffmpeg: voice messages cannot be decoded. Install it (apt-get install ffmpeg) "
            "or `pip install 'zhiban[voice]'`, which brings a static build; or set voice.enabled = false.",
        )


def check_speech_model(settings: Settings) -> Check:
    if not settings.voice.enabled:
        return Check("speech model", Status.OK, "not needed: voice.enabled is off")
    try:
        import faster_whisper  # noqa: F401  (only whether the engine is there)

        from voice.model import ModelUnavailable, _sources, model_status
    except ImportError:
        return Check(
            "speech model",
            Status.WARN,
            "voice support is not installed: voice messages are not transcribed. pip install 'zhiban[voice]'",
        )
    ready, message = model_status(settings.voice.model_dir or None)
    if ready:
        return Check("speech model", Status.OK, message)
    try:
        _sources()  # the weight packages the model is assembled from
    except ModelUnavailable as exc:
        return Check("speech model", Status.FAIL, str(exc))
    # Not assembled yet: the first voice message does it, from packages already installed.
    return Check("speech model", Status.WARN, message)


# -- all together ---------------------------------------------------------------------------


async def _guarded(name: str, check: Callable[[], Awaitable[list[Check]]]) -> list[Check]:
    """A check that breaks unexpectedly is one ✘ line with the error's words, not a traceback."""
    try:
        return await check()
    except Exception as exc:
        log.debug("check %s failed", name, exc_info=True)
        return [Check(name, Status.FAIL, f"the check itself failed: {_first_line(exc)}")]


def _blocking(check: Callable[[], Check]) -> Callable[[], Awaitable[list[Check]]]:
    async def run() -> list[Check]:
        return [await asyncio.to_thread(check)]

    return run


async def run_checks(settings: Settings) -> list[Check]:
    async def homeserver_and_account() -> list[Check]:
        homeserver = await check_homeserver(settings)
        # Missing credentials are said even when the homeserver is away; a login needs it.
        return [homeserver, *await check_bot_account(settings, reachable=homeserver.status is not Status.FAIL)]

    async def database() -> list[Check]:
        return [await check_database(settings)]

    groups = await asyncio.gather(
        _guarded("homeserver", homeserver_and_account),
        _guarded("database", database),
        _guarded("redis", _blocking(lambda: check_redis(settings))),
        _guarded("ffmpeg", _blocking(lambda: check_ffmpeg(settings))),
        _guarded("speech model", _blocking(lambda: check_speech_model(settings))),
    )
    return [check for group in groups for check in group]


__all__ = ["Check", "Status", "run_checks"]
