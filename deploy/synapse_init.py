"""Prepare Synapse's config for docker-compose, run in the Synapse image before Synapse starts.

On the first start it has the image generate `homeserver.yaml` (its signing key, its own
secrets) with the command given as arguments (`/start.py generate`, the official image's
generate mode). On every start it then writes `zhiban.yaml` beside it: the few settings this
deployment depends on, which Synapse reads after `homeserver.yaml` (a later file's top-level keys
win). Edit `homeserver.yaml` for everything else; a change to these keys there has no effect.

- `registration_shared_secret_path`: the secret compose mounts, shared with the `bootstrap`
  service that registers the bot (the generated in-line secret is switched off);
- `public_baseurl` and `x_forwarded`: Synapse is reached through the TLS proxy;
- `enable_registration: false`: accounts are made by the administrator.

Standard library only: it runs on the Synapse image's Python, not on Zhiban's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LISTENER_PORT = 8008
SECRET_PATH = "/run/secrets/synapse_registration_shared_secret"


def overrides(environ: dict[str, str]) -> dict[str, object]:
    domain = environ["MATRIX_DOMAIN"].strip().rstrip("/")
    return {
        "public_baseurl": f"https://{domain}/",
        "registration_shared_secret": None,
        "registration_shared_secret_path": environ.get("SYNAPSE_REGISTRATION_SHARED_SECRET_PATH", SECRET_PATH),
        "enable_registration": False,
        # Clients and other servers find this homeserver at MATRIX_DOMAIN (through the proxy).
        "serve_server_wellknown": True,
        "listeners": [
            {
                "port": LISTENER_PORT,
                "type": "http",
                "tls": False,
                # The proxy's X-Forwarded-For is the client's address (rate limits, logs).
                "x_forwarded": True,
                "bind_addresses": ["0.0.0.0"],
                "resources": [{"names": ["client", "federation"], "compress": False}],
            }
        ],
    }


def _owner(environ: dict[str, str]) -> tuple[int, int] | None:
    """Who Synapse runs as: the image drops root to UID:GID (991:991 by default)."""
    if "UID" in environ:
        return int(environ["UID"]), int(environ.get("GID", "991"))
    return (991, 991) if os.getuid() == 0 else None


def main(argv: list[str], environ: dict[str, str]) -> int:
    config_dir = Path(environ.get("SYNAPSE_CONFIG_DIR", "/data"))
    config = Path(environ.get("SYNAPSE_CONFIG_PATH", str(config_dir / "homeserver.yaml")))
    for name in ("SYNAPSE_SERVER_NAME", "MATRIX_DOMAIN"):
        if not environ.get(name, "").strip():
            print(f"synapse-init: set {name} in .env", file=sys.stderr)
            return 2
    if not config.exists():
        if not argv:
            print(f"synapse-init: {config} is missing and no generate command was given", file=sys.stderr)
            return 2
        print(f"synapse-init: generating {config} for {environ['SYNAPSE_SERVER_NAME']}")
        subprocess.run(argv, check=True, env=environ)
    target = config.parent / "zhiban.yaml"
    # JSON is valid YAML: nothing beyond the standard library is needed.
    target.write_text(
        "# Written by deploy/synapse_init.py at every start; edit homeserver.yaml instead.\n"
        + json.dumps(overrides(environ), indent=2)
        + "\n",
        encoding="utf-8",
    )
    owner = _owner(environ)
    if owner is not None:
        os.chown(target, *owner)
    print(f"synapse-init: wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], dict(os.environ)))
