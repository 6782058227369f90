"""How each process logs: plain text or one JSON object per line, and the server's access log.

Domain log lines pass their facts as `extra={...}` (timer id and kind, outbox row, sender,
feature); the JSON format turns every such fact into a key, so that a log store can search
"every timer of task 12" without parsing sentences. Message bodies are never among them.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("nio", "aiohttp.access", "peewee", "httpx")
ACCESS_LOGGER = "uvicorn.access"

# The attributes every LogRecord has; whatever else a record carries came in `extra`.
# uvicorn's `color_message` repeats the message with terminal colours.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}
# A sign-in link's path is its secret: the access log shows that a link was opened, not which.
_SECRET_PATHS = re.compile(r"^(/push/signin/)[^/?#]+")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the record's extra facts."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class AccessFacts(logging.Filter):
    """Gives uvicorn's access lines their facts as fields, with secrets taken out of the path.

    uvicorn logs `'%s - "%s %s HTTP/%s" %d'` with (client, method, path, http version, status).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, path, version, status = args
            path = _SECRET_PATHS.sub(r"\1…", str(path).partition("?")[0])
            record.args = (client, method, path, version, status)
            record.__dict__.update(client=str(client), method=str(method), path=path, status=status)
        return True


def setup(fmt: str = "text", *, verbose: bool = False) -> None:
    """Configure the root logger of this process (called once by each CLI command)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def access_log() -> logging.Logger:
    """uvicorn's access logger, through our handler and format (start uvicorn with log_config=None)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.setLevel(logging.INFO)
    if not any(isinstance(f, AccessFacts) for f in logger.filters):
        logger.addFilter(AccessFacts())
    return logger
