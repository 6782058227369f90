"""The production compose file and the CLI agree, and the CLI refuses bad config clearly."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml
from typer.testing import CliRunner

from zhiban.cli import app

ROOT = Path(__file__).resolve().parents[2]


def cli_commands() -> set[str]:
    group = typer.main.get_command(app)
    return set(group.commands)  # type: ignore[attr-defined]


def test_compose_names_every_service_and_each_command_exists() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"synapse", "postgres", "redis", "bot", "server", "worker"} <= set(services)
    for name in ("bot", "server", "worker"):
        command = services[name]["command"][0]
        assert command in cli_commands(), f"compose runs `zhiban {command}`, which the CLI lacks"
    for name, service in services.items():
        assert "healthcheck" in service, f"{name} has no health check"
    assert {"zhiban-data", "postgres-data", "redis-data"} <= set(compose["volumes"])


def test_cli_has_the_documented_commands() -> None:
    assert {"up", "bot", "server", "worker", "init", "doctor", "db", "audit"} <= cli_commands()


def test_broken_config_file_is_explained_not_traced(tmp_path: Path) -> None:
    config = tmp_path / "zhiban.toml"
    config.write_text('default_tz = "Mars/Olympus"\n[matrix\nuser_id = 1\n')
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2
    assert "not valid TOML" in result.output and "Traceback" not in result.output
    config.write_text('default_tz = "Mars/Olympus"\n[matrix]\nuser_idd = "@x:y"\n')
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2
    assert "default_tz" in result.output and "matrix.user_idd" in result.output


def test_init_writes_fresh_secrets_and_vapid_keys(tmp_path: Path) -> None:
    import tomllib

    paths = [tmp_path / "a.toml", tmp_path / "b.toml"]
    for path in paths:
        result = CliRunner().invoke(app, ["init", "--config", str(path), "--bot-password", "pw"])
        assert result.exit_code == 0, result.output
    first, second = (tomllib.loads(p.read_text()) for p in paths)
    assert first["server"]["secret_key"] != second["server"]["secret_key"]
    assert first["push"]["vapid_public_key"] != second["push"]["vapid_public_key"]
    assert oct(paths[0].stat().st_mode)[-3:] == "600"
    again = CliRunner().invoke(app, ["init", "--config", str(paths[0]), "--bot-password", "pw"])
    assert again.exit_code == 1 and "exists" in again.output


def test_audit_verify_reports_intact_and_broken(tmp_path: Path) -> None:
    import asyncio

    from sqlalchemy import update

    from records import audit
    from records.db import Database
    from records.models import AuditEntry

    config = tmp_path / "zhiban.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n')
    assert CliRunner().invoke(app, ["db", "upgrade", "--config", str(config)]).exit_code == 0

    async def write_then(tamper: bool) -> None:
        db = Database(f"sqlite:///{tmp_path / 'zhiban.db'}")
        async with db.transaction() as session:
            if tamper:
                await session.execute(update(AuditEntry).values(actor="@mallory:x"))
            else:
                await audit.record(session, actor="@a:x", action="approval.decide", subject="A1")
        await db.dispose()

    asyncio.run(write_then(False))
    ok = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert ok.exit_code == 0 and "intact" in ok.output
    asyncio.run(write_then(True))
    broken = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert broken.exit_code == 1 and "BROKEN" in broken.output
