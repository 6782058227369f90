"""The `zhiban` command line. Nothing runs at import time; each command loads the config."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from zhiban.settings import ConfigError, Settings, config_path, load_settings

app = typer.Typer(help="Zhiban (值班): a chat-first office and emergency assistant for Matrix.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
roster_app = typer.Typer(help="The duty roster (值班表).", no_args_is_help=True)
app.add_typer(roster_app, name="roster")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="Config file (default: $ZHIBAN_CONFIG or ./zhiban.toml).")
]


def _settings(config: Path | None, *, required: bool = False) -> Settings:
    try:
        return load_settings(config, required=required)
    except ConfigError as exc:
        typer.secho(f"Config error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("nio", "aiohttp.access", "peewee", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


@app.command()
def up(
    data_dir: Annotated[Path, typer.Option(help="Where the local stack keeps its data.")] = Path("data"),
    tour: Annotated[bool, typer.Option(help="Play the scripted tour once the stack is up.")] = True,
    exit_after_tour: Annotated[bool, typer.Option(help="Stop after the tour (for scripts).")] = False,
    embedded_redis: Annotated[bool, typer.Option(help="Use the embedded Redis even if redis.url is set.")] = False,
) -> None:
    """Run the whole local stack: Synapse, Redis, the bot, the push server and the worker."""
    from zhiban.stack import run_stack

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
    _logging(verbose)
    run_bot(settings)


@app.command()
def server(config: ConfigOption = None, host: str | None = None, port: int | None = None) -> None:
    """Run the push server (FastAPI): push API, Matrix push gateway, sign-in links, dashboard."""
    import uvicorn

    from records.migrate import upgrade
    from server.app import create_app

    settings = _settings(config)
    _logging()
    upgrade(settings.database_url)
    uvicorn.run(
        create_app(settings),
        host=host or settings.server.host,
        port=port or settings.server.port,
        log_level="warning",
        proxy_headers=True,
    )


@app.command()
def worker(config: ConfigOption = None) -> None:
    """Run a job worker and the timer pump (any number, on any machines)."""
    from zhiban.redis_conn import resolve_url
    from zhiban.worker import run_worker

    settings = _settings(config)
    _logging()
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
    bot_password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="The bot's password.")] = "",
    force: bool = False,
) -> None:
    """Write a config file with fresh secrets and VAPID keys."""
    from zhiban.config_file import fresh_config, write_config

    path = config_path(config)
    try:
        write_config(
            path, fresh_config(homeserver=homeserver, bot_user=bot_user, bot_password=bot_password), overwrite=force
        )
    except FileExistsError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Wrote {path}. Edit the roles, then run `zhiban doctor`.")


@app.command()
def doctor(config: ConfigOption = None) -> None:
    """Check the homeserver, database, Redis, ffmpeg and the speech model."""
    from zhiban.doctor import run_checks

    settings = _settings(config)
    checks = asyncio.run(run_checks(settings))
    for check in checks:
        mark = typer.style("✔", fg=typer.colors.GREEN) if check.ok else typer.style("✘", fg=typer.colors.RED)
        typer.echo(f"{mark} {check.name}: {check.message}")
    raise typer.Exit(0 if all(c.ok for c in checks) else 1)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None, revision: str = "head") -> None:
    """Apply the database migrations."""
    from records.migrate import upgrade

    settings = _settings(config)
    upgrade(settings.database_url, revision)
    typer.echo(f"Database at {revision}.")


@audit_app.command("verify")
def audit_verify(config: ConfigOption = None) -> None:
    """Prove the audit trail intact: no entry edited, removed or reordered."""
    from records.audit import verify
    from records.db import Database

    settings = _settings(config)

    async def run() -> tuple[bool, str]:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as session:
                result = await verify(session)
        finally:
            await db.dispose()
        if result.ok:
            return True, f"audit trail intact: {result.checked} entries verified"
        return False, f"audit trail BROKEN at entry {result.broken_at}: {result.reason}"

    ok, message = asyncio.run(run())
    typer.secho(message, fg=typer.colors.GREEN if ok else typer.colors.RED, err=not ok)
    raise typer.Exit(0 if ok else 1)


@roster_app.command("import")
def roster_import(
    file: Annotated[Path, typer.Argument(help="CSV: date,start,end,leader,officers[,note] (times in roster_tz).")],
    config: ConfigOption = None,
    actor: Annotated[str, typer.Option(help="Who the audit trail names as importing.")] = "cli",
) -> None:
    """Import duty shifts from a CSV file; nothing is imported when any line is bad."""
    from commands.timeparse import TimeParseError
    from emergency.roster import import_roster, parse_roster_csv
    from emergency.texts import tr
    from records.clock import SystemClock
    from records.db import Database
    from records.errors import DomainError
    from records.migrate import upgrade

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
