"""The `zhiban` command line. Nothing runs at import time; each command loads the config."""

from __future__ import annotations

import asyncio
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from records.config import ConfigError, Settings, config_path, load_settings
from zhiban.cli_homeserver import homeserver_app

if TYPE_CHECKING:
    from records.audit_seal import Anchors

app = typer.Typer(help="Zhiban (值班): a chat-first office and emergency assistant for Matrix.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
roster_app = typer.Typer(help="The duty roster (值班表).", no_args_is_help=True)
app.add_typer(roster_app, name="roster")
app.add_typer(homeserver_app, name="homeserver")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (default: $ZHIBAN_CONFIG or ./zhiban.toml).")
]


def _settings(config: Path | None, *, required: bool = False) -> Settings:
    try:
        return load_settings(config, required=required)
    except ConfigError as exc:
        typer.secho(f"Config error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _seal_entries(settings: Settings) -> None:
    """Give this process the audit key, so that every entry it writes is sealed."""
    from records.audit_seal import AuditKeyError
    from zhiban.audit_setup import install

    try:
        install(settings)
    except AuditKeyError as exc:
        typer.secho(f"Audit key error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _logging(verbose: bool = False, settings: Settings | None = None) -> None:
    """Text or JSON lines (`[logging] format`), for this process."""
    from zhiban import logs

    logs.setup(settings.logging.format if settings is not None else "text", verbose=verbose)


def _serve_metrics(settings: Settings, role: Literal["bot", "worker"]) -> None:
    """This process's /metrics on `[metrics] host:<role>_port`, when the port is set."""
    from zhiban.metrics import serve

    try:
        serve(settings, role)
    except ConfigError as exc:
        typer.secho(f"Config error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def up(
    data_dir: Annotated[Path, typer.Option(help="Where the local stack keeps its data.")] = Path("data"),
    tour: Annotated[bool, typer.Option(help="Play the scripted tour once the stack is up.")] = True,
    exit_after_tour: Annotated[bool, typer.Option(help="Stop after the tour (for scripts).")] = False,
    embedded_redis: Annotated[bool, typer.Option(help="Use the embedded Redis even if redis.url is set.")] = False,
) -> None:
    """Run the whole local stack: Synapse, Redis, the bot, the push server and the worker."""
    from zhiban.local.stack import run_stack

    _logging()
    try:
        code = asyncio.run(
            run_stack(data_dir.resolve(), tour=tour, exit_after_tour=exit_after_tour, embedded_redis=embedded_redis)
        )
    except ConfigError as exc:
        typer.secho(f"Config error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)


@app.command()
def bot(config: ConfigOption = None, verbose: bool = False) -> None:
    """Run the Matrix bot (one active instance per account; others stand by)."""
    from zhiban.bot_runner import run_bot

    settings = _settings(config, required=True)
    _logging(verbose, settings)
    _seal_entries(settings)
    _serve_metrics(settings, "bot")
    run_bot(settings)


@app.command()
def server(config: ConfigOption = None, host: str | None = None, port: int | None = None) -> None:
    """Run the push server (FastAPI): push API, Matrix push gateway, sign-in links, dashboard."""
    import uvicorn

    from records.migrate import upgrade
    from server.app import create_app
    from zhiban.board_wiring import board_extra
    from zhiban.logs import access_log
    from zhiban.stepup_wiring import step_extra

    settings = _settings(config)
    _logging(settings=settings)
    _seal_entries(settings)
    upgrade(settings.database_url)
    access_log()  # one line per request, in this process's format, sign-in secrets left out
    uvicorn.run(
        create_app(settings, extra=board_extra(settings) | step_extra(settings)),
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_config=None,
        proxy_headers=True,
        # Open boards (Server-Sent Events) never finish by themselves: a stop waits this long for
        # them, then closes them; browsers reconnect to whichever copy answers next.
        timeout_graceful_shutdown=5,
    )


@app.command()
def worker(config: ConfigOption = None) -> None:
    """Run a job worker and the timer pump (any number, on any machines)."""
    from zhiban.redis_conn import resolve_url
    from zhiban.worker import run_worker

    settings = _settings(config)
    _logging(settings=settings)
    _seal_entries(settings)
    _serve_metrics(settings, "worker")
    try:
        run_worker(settings, resolve_url(settings.redis.url), config_file=config_path(config))
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


@app.command()
def init(
    config: ConfigOption = None,
    homeserver: Annotated[str, typer.Option(help="The homeserver's client URL.")] = "http://127.0.0.1:8008",
    bot_user: Annotated[str, typer.Option(help="The bot's Matrix user id.")] = "@zhiban:localhost",
    bot_password: Annotated[
        str | None, typer.Option(help="The bot's password (asked for when not given; empty: a new one is made).")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The push server's address as people's browsers reach it (asked for).")
    ] = None,
    force: bool = False,
) -> None:
    """Write a config file with fresh secrets and VAPID keys."""
    from zhiban.config_file import fresh_config, write_config

    path = config_path(config)
    # Refused before any question: nobody should type a password for a file that is not written.
    if path.exists() and not force:
        typer.secho(f"{path} exists; pass --force to replace it", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    password, made = _init_password(bot_password)
    url = _init_public_url(public_url)
    write_config(
        path,
        fresh_config(homeserver=homeserver, bot_user=bot_user, bot_password=password, public_url=url),
        overwrite=force,
    )
    if made:
        typer.echo(f"The bot's password (new, in {path}): {password}")
        typer.echo(f"Register {bot_user} on the homeserver with it, or put the account's password in the file.")
    typer.echo(f"Wrote {path}. Edit the roles, then run `zhiban doctor`.")


def _init_password(given: str | None) -> tuple[str, bool]:
    """The bot's password, and whether it was made here (then it is printed once)."""
    import secrets

    password = given
    if password is None:
        password = typer.prompt(
            "The bot's password (empty: make a new one)", default="", show_default=False, hide_input=True
        )
    if password.strip():
        return password, False
    # An empty password is never written: the bot could not log in with it.
    return secrets.token_urlsafe(18), True


def _init_public_url(given: str | None) -> str:
    """The push server's public address, asked again until it is an http(s) URL."""
    from records.config_checks import http_url

    while True:
        value = given if given is not None else typer.prompt("The push server's public URL (https://…)")
        try:
            return http_url(value.strip())
        except ValueError as exc:
            typer.secho(f"public_url {exc}", fg=typer.colors.RED, err=True)
            if given is not None:
                raise typer.Exit(2) from None


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check the homeserver, the bot's login, database, Redis, ffmpeg and the speech model; changes nothing."""
    from zhiban.doctor import Status, run_checks

    settings = _settings(config)
    checks = asyncio.run(run_checks(settings))
    marks = {
        Status.OK: typer.style("✔", fg=typer.colors.GREEN),
        Status.WARN: typer.style("⚠", fg=typer.colors.YELLOW),
        Status.FAIL: typer.style("✘", fg=typer.colors.RED),
    }
    for check in checks:
        typer.echo(f"{marks[check.status]} {check.name}: {check.message}")
    failures = sum(check.status is Status.FAIL for check in checks)
    warnings = sum(check.status is Status.WARN for check in checks)
    typer.echo(f"{failures} failure(s), {warnings} warning(s).")
    # Warnings say what to look at; only a failure means Zhiban will not work as configured.
    raise typer.Exit(1 if failures else 0)


class Role(StrEnum):
    bot = "bot"
    worker = "worker"
    server = "server"


@app.command()
def health(
    role: Annotated[Role, typer.Argument(help="The process to check: bot, worker or server.")],
    config: ConfigOption = None,
    ready: Annotated[bool, typer.Option("--ready", help="Able to serve, not only alive.")] = False,
    port: Annotated[int | None, typer.Option(help="The server's port (default: server.port).")] = None,
) -> None:
    """Check one process of this host (a container health check): one line, exit 0 or 1."""
    from zhiban import health as checks
    from zhiban.redis_conn import resolve_url

    settings = _settings(config)
    result: checks.Health
    if role is Role.bot:
        result = asyncio.run(checks.bot_health(settings, ready=ready))
    elif role is Role.server:
        result = asyncio.run(checks.server_health(settings, ready=ready, port=port))
    elif redis_url := resolve_url(settings.redis.url):
        result = asyncio.run(checks.worker_health(settings, redis_url, ready=ready))
    else:
        result = checks.Health(False, "worker: no Redis configured (redis.url) or answering on localhost")
    typer.echo(result.line)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def backup(
    archive: Annotated[Path, typer.Argument(help="The archive to write (tar.gz).")],
    config: ConfigOption = None,
) -> None:
    """Back up the database, the bot's crypto store, the config and the audit key into one archive."""
    from zhiban.backup import BackupError, create_backup

    settings = _settings(config)
    try:
        manifest, notes = create_backup(settings, config_path(config), archive)
    except BackupError as exc:
        typer.secho(f"Backup failed: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    size = archive.stat().st_size
    typer.secho(
        f"backup written to {archive} ({len(manifest['files'])} files, {size / 1e6:.1f} MB, "
        f"{manifest['database']} at schema {manifest['alembic_revision']})",
        fg=typer.colors.GREEN,
    )
    for note in notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW)
    typer.echo("It holds the audit key and the bot's device keys: keep it as safe as the server itself.")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="The archive `zhiban backup` wrote.")],
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Where to put the restored config (default: ./zhiban.toml).")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="Restore into this data folder instead.")] = None,
    force: Annotated[bool, typer.Option(help="Replace what is already there.")] = False,
) -> None:
    """Restore a backup onto an empty data folder, then check the audit trail with the restored key."""
    from zhiban.backup import BackupError, restore_backup

    try:
        restored = restore_backup(archive, config_path(config), data_dir=data_dir, force=force)
    except BackupError as exc:
        typer.secho(f"Restore refused: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except ConfigError as exc:
        typer.secho(f"Config error in the restored config: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    typer.secho(
        f"restored the backup of {restored.manifest['created_at']} into {restored.settings.data_dir}",
        fg=typer.colors.GREEN,
    )
    for note in restored.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW)
    typer.secho(restored.audit_summary, fg=typer.colors.GREEN if restored.audit_ok else typer.colors.RED)
    raise typer.Exit(0 if restored.audit_ok else 1)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None, revision: str = "head") -> None:
    """Apply the database migrations."""
    from records.migrate import upgrade

    settings = _settings(config)
    upgrade(settings.database_url, revision)
    typer.echo(f"Database at {revision}.")


CheckpointFileOption = Annotated[
    Path | None,
    typer.Option("--checkpoint-file", help="The checkpoint file to compare (default: audit.checkpoint_file)."),
]


def _audit_anchors(settings: Settings, checkpoint_file: Path | None) -> Anchors:
    """The key (never created here: a fresh one would make every seal look forged) and the file."""
    from dataclasses import replace

    from records.audit_seal import AuditKeyError
    from zhiban.audit_setup import anchors

    try:
        found = anchors(settings, create_key=False)
    except AuditKeyError as exc:
        typer.secho(f"cannot check the audit trail: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    return found if checkpoint_file is None else replace(found, checkpoint_file=checkpoint_file)


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None, checkpoint_file: CheckpointFileOption = None) -> None:
    """Prove the audit trail intact: no entry edited, removed or reordered, seals and checkpoints agree."""
    from records.audit import Verification, verify
    from records.db import Database
    from records.migrate import upgrade

    settings = _settings(config)
    anchors = _audit_anchors(settings, checkpoint_file)
    upgrade(settings.database_url)

    async def run() -> Verification:
        db = Database(settings.database_url)
        try:
            async with db.reading() as session:
                return await verify(session, key=anchors.key, checkpoint_file=anchors.checkpoint_file)
        finally:
            await db.dispose()

    result = asyncio.run(run())
    if not result.ok:
        where = f" at entry {result.broken_at}" if result.broken_at is not None else ""
        typer.secho(f"audit trail BROKEN{where}: {result.reason}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    summary = f"audit trail intact: {result.checked} entries verified"
    if result.sealed_from is not None:
        summary += f", sealed from entry {result.sealed_from}"
    if result.latest is not None:
        summary += (
            f"; consistent with {result.checkpoints} checkpoint(s), the latest of "
            f"{result.latest.at:%Y-%m-%d %H:%M:%S} UTC at entry {result.latest.seq}"
        )
    typer.secho(summary, fg=typer.colors.GREEN)
    # The head, to compare with the last checkpoint posted to the audit room.
    typer.echo(f"head: entry {result.checked}, {result.head}")
    for note in result.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW)


@audit_app.command("checkpoint")
def audit_checkpoint(config: ConfigOption = None) -> None:
    """Verify the trail and sign its head now: kept in the database, the checkpoint file and the audit room."""
    from commands.audit.service import take
    from records.audit import TrailBroken
    from records.audit_seal import Checkpoint
    from records.clock import SystemClock
    from records.db import Database
    from records.migrate import upgrade

    settings = _settings(config)
    anchors = _audit_anchors(settings, None)
    upgrade(settings.database_url)

    async def run() -> Checkpoint:
        db = Database(settings.database_url)
        try:
            return await take(db, anchors, SystemClock())
        finally:
            await db.dispose()

    try:
        signed = asyncio.run(run())
    except TrailBroken as exc:
        typer.secho(f"no checkpoint taken: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.secho(
            f"no checkpoint taken: cannot write {anchors.checkpoint_file}: {exc}", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(1) from None
    where = f"{anchors.checkpoint_file}" + (f" and posted to {anchors.room}" if anchors.room else "")
    typer.echo(f"checkpoint taken: entry {signed.seq}, head {signed.head}; written to the database, {where}.")


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="CSV: date,start,end,leader,officers[,note] (times in roster_tz).")],
    config: ConfigOption = None,
    actor: Annotated[str, typer.Option(help="Who the audit trail names as importing.")] = "cli",
) -> None:
    """Import duty shifts from a CSV file; nothing is imported when any line is bad."""
    from emergency.roster import import_roster, parse_roster_csv
    from emergency.texts import tr
    from records.clock import SystemClock
    from records.db import Database
    from records.errors import DomainError
    from records.migrate import upgrade
    from timeparse import TimeParseError

    settings = _settings(config)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        typer.secho(f"cannot read {file}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    server = settings.matrix.user_id.split(":", 1)[1]
    try:
        parsed = parse_roster_csv(text, tz=settings.emergency.roster_tz, default_server=server)
    except TimeParseError as exc:  # too long to read in the parser's time limit
        typer.secho(f"{file}: {exc.message('en')} / {exc.message('zh')}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if parsed.errors:
        typer.secho(f"{file}: {len(parsed.errors)} bad line(s); nothing imported.", fg=typer.colors.RED, err=True)
        for error in parsed.errors:
            where = f"line {error.line}" + (f", column {error.column}" if error.column else "")
            en, zh = tr(error.key, "en", **error.params), tr(error.key, "zh", **error.params)
            typer.secho(f"  {where}: {en} / {zh}", err=True)
        raise typer.Exit(1)
    upgrade(settings.database_url)
    _seal_entries(settings)

    async def run() -> int:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                return await import_roster(session, parsed, actor=actor, clock=SystemClock())
        finally:
            await db.dispose()

    try:
        count = asyncio.run(run())
    except DomainError as exc:  # an empty roster, a shift the service refuses
        en, zh = tr(exc.key, "en", **exc.params), tr(exc.key, "zh", **exc.params)
        typer.secho(f"{file}: {en} / {zh}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Imported {count} shift(s) from {file}.")


def main() -> None:  # pragma: no cover - the console script entry
    app()


if __name__ == "__main__":
    sys.exit(app())
