"""Writing a fresh config file (`zhiban init`), with new secrets and VAPID keys."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import tomli_w

from notifications.webpush.vapid import generate_vapid_keys


def fresh_config(
    *, homeserver: str, bot_user: str, bot_password: str, data_dir: str = "data", public_url: str | None = None
) -> dict[str, Any]:
    private, public = generate_vapid_keys()
    server_name = bot_user.split(":", 1)[1] if ":" in bot_user else "localhost"
    server: dict[str, Any] = {
        # /metrics answers only with this bearer token; give it to the scraper.
        "secret_key": secrets.token_urlsafe(32),
        "metrics_token": secrets.token_urlsafe(32),
    }
    if public_url is not None:
        server["public_url"] = public_url  # sign-in links and the push page point there
    return {
        "data_dir": data_dir,
        "default_lang": "zh",
        "default_tz": "Asia/Shanghai",
        "matrix": {
            "homeserver": homeserver,
            "user_id": bot_user,
            "password": bot_password,
            "allowed_servers": [server_name],
        },
        "database": {"url": ""},
        "redis": {"url": ""},
        "server": server,
        "push": {"vapid_private_key": private, "vapid_public_key": public},
        "roles": {"leader": [], "duty_leader": [], "duty_officer": [], "admin": []},
    }


def write_config(path: Path, values: dict[str, Any], *, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Zhiban configuration. Environment variables ZHIBAN_<SECTION>__<KEY> override it.\n"
    write_private(path, header + tomli_w.dumps(values))


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read (it holds secrets), never readable by others meanwhile."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    path.chmod(0o600)  # an existing file keeps its old mode through O_CREAT
