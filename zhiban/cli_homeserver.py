"""`zhiban homeserver …`: what Zhiban does on a homeserver of the office's own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from records.config import ConfigError, load_settings

homeserver_app = typer.Typer(help="The bot's account on a homeserver of your own.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read the shared secret from {path}: {exc.__class__.__name__}: {exc}", 2) from None


@homeserver_app.command("bootstrap")
def bootstrap(
    shared_secret_file: Annotated[
        Path,
        typer.Option(
            help="A file holding the homeserver's registration_shared_secret (docker-compose: a secret).",
            envvar="SYNAPSE_REGISTRATION_SHARED_SECRET_FILE",
        ),
    ],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (default: $ZHIBAN_CONFIG or ./zhiban.toml).")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the homeserver to answer.")] = 60.0,
) -> None:
    """Register the bot's account (as a server admin) and exempt it from rate limits; safe to run again."""
    from records.audit_seal import AuditKeyError
    from records.migrate import upgrade
    from zhiban.audit_setup import install
    from zhiban.bootstrap import BootstrapError, bootstrap_bot, record_changes

    try:
        settings = load_settings(config, required=True)
    except ConfigError as exc:
        raise _fail(f"Config error: {exc}", 2) from None
    secret = _read_secret(shared_secret_file)
    try:
        install(settings)  # the audit entries below are sealed like every other
    except AuditKeyError as exc:
        raise _fail(f"Audit key error: {exc}", 2) from None
    try:
        result = asyncio.run(bootstrap_bot(settings, secret, wait=wait))
    except BootstrapError as exc:
        raise _fail(f"bootstrap failed: {exc}") from None
    upgrade(settings.database_url)
    asyncio.run(record_changes(settings, result))
    for line in result.lines:
        typer.echo(line)
