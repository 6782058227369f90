"""The bot's and the worker's Prometheus endpoint (the push server has its own /metrics).

Each process serves its own figures with prometheus_client's HTTP server on
`[metrics] host` and `bot_port` / `worker_port` (0, the default: off). The worker runs its
jobs in its own process (rq's SimpleWorker, no fork per job), so what a job records is served
here, without prometheus_client's multiprocess mode.
"""

from __future__ import annotations

import logging
from typing import Literal

from prometheus_client import start_http_server

from records.config import ConfigError, Settings

log = logging.getLogger(__name__)

Role = Literal["bot", "worker"]


def port_of(settings: Settings, role: Role) -> int:
    return settings.metrics.bot_port if role == "bot" else settings.metrics.worker_port


def serve(settings: Settings, role: Role) -> int | None:
    """Start serving /metrics for this process in a thread; the port, or None when off."""
    port, host = port_of(settings, role), settings.metrics.host
    if not port:
        return None
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise ConfigError(
            f"the {role}'s metrics cannot listen on {host}:{port} ({exc.strerror or exc}); "
            f"choose another metrics.{role}_port, or 0 to turn them off"
        ) from None
    log.info("%s metrics at http://%s:%d/metrics", role, host, port, extra={"metrics_port": port})
    return port
