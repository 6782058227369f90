"""`zhiban doctor`: checks each part Zhiban needs and says in plain words what to do."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass

import aiohttp
from sqlalchemy import text

from records.db import Database
from zhiban.redis_conn import answers, embedded_version, resolve_url, server_version
from zhiban.settings import Settings


@dataclass
class Check:
    name: str
    ok: bool
    message: str


async def check_homeserver(settings: Settings) -> Check:
    url = settings.matrix.homeserver.rstrip("/") + "/_matrix/client/versions"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http, http.get(url) as r:
            if r.status == 200:
                return Check("homeserver", True, f"{settings.matrix.homeserver} answers")
            return Check("homeserver", False, f"{url} answered HTTP {r.status}; is this a Matrix homeserver?")
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        return Check(
            "homeserver",
            False,
            f"cannot reach {settings.matrix.homeserver} ({type(exc).__name__}). Start it, or set "
            "matrix.homeserver in the config. `zhiban up` runs a local one.",
        )


async def check_database(settings: Settings) -> Check:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as session:
            await session.execute(text("SELECT 1"))
        return Check("database", True, db.url.split("@")[-1])
    except Exception as exc:
        return Check(
            "database",
            False,
            f"cannot open the database ({type(exc).__name__}: {str(exc)[:120]}). Check database.url; "
            "leave it empty to use SQLite under the data folder.",
        )
    finally:
        await db.dispose()


def check_redis(settings: Settings) -> Check:
    url = resolve_url(settings.redis.url)
    embedded = embedded_version()
    embedded_note = f"; embedded redis-server {embedded} for `zhiban up`" if embedded else ""
    if url and answers(url):
        version = server_version(url)
        found = f"{url} (Redis {version})" if version else url
        if not settings.redis.url:
            # Works, but shared with anything else on this machine: worth a line in the report.
            return Check(
                "redis", True, f"redis.url is not set: using {found}, shared with others; set redis.url{embedded_note}"
            )
        return Check("redis", True, found + embedded_note)
    if settings.redis.url:
        return Check("redis", False, f"Redis at {settings.redis.url} does not answer. Start it or fix redis.url.")
    return Check(
        "redis",
        True,
        "no Redis configured or on localhost: `zhiban up` starts an embedded one; "
        f"`zhiban worker` alone needs redis.url{embedded_note}",
    )


def check_ffmpeg() -> Check:
    if shutil.which("ffmpeg"):
        return Check("ffmpeg", True, shutil.which("ffmpeg") or "")
    try:
        import imageio_ffmpeg

        return Check("ffmpeg", True, f"bundled: {imageio_ffmpeg.get_ffmpeg_exe()}")
    except Exception:
        return Check(
            "ffmpeg",
            False,
            "no ffmpeg: voice messages cannot be decoded. Install it (apt-get install ffmpeg) "
            "or `pip install 'zhiban[voice]'`, which brings a static build.",
        )


def check_speech_model(settings: Settings) -> Check:
    try:
        from voice.model import model_status
    except Exception:
        return Check("speech model", False, "voice support is not installed: pip install 'zhiban[voice]'")
    ok, message = model_status(settings.voice.model_dir or None)
    return Check("speech model", ok, message)


async def run_checks(settings: Settings) -> list[Check]:
    homeserver, database = await asyncio.gather(check_homeserver(settings), check_database(settings))
    return [homeserver, database, check_redis(settings), check_ffmpeg(), check_speech_model(settings)]
