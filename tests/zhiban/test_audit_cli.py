"""`zhiban audit verify` and `zhiban audit checkpoint`: plain words, and an exit code scripts can trust."""

from __future__ import annotations

import asyncio
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from records import audit
from records.audit_seal import install
from records.config import Settings, load_settings
from records.db import Database
from tests.records.audit_attacks import cut_from, rewrite
from zhiban import audit_setup
from zhiban.cli import app


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Iterator[Path]:
    path = tmp_path / "zhiban.toml"
    path.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "{database_url}"\n[audit]\nroom = "!audit:office.example"\n',
        encoding="utf-8",
    )
    yield path
    install(None)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _on_db(settings: Settings, action: Callable[[Database], Awaitable[None]]) -> None:
    async def run() -> None:
        db = Database(settings.database_url)
        try:
            await action(db)
        finally:
            await db.dispose()

    asyncio.run(run())


def _write(settings: Settings, n: int) -> None:
    async def write(db: Database) -> None:
        for i in range(n):
            async with db.transaction() as session:
                await audit.record(session, actor="@zhang:x", action="approval.decide", subject=f"A{i}")

    _on_db(settings, write)


def test_verify_without_the_key_is_an_error_not_intact(config: Path) -> None:
    result = _cli("audit", "verify", "-c", str(config))
    assert result.exit_code == 2
    assert "no audit key" in result.output and "intact" not in result.output
    assert not (config.parent / "audit.key").exists()  # verify never makes a key up


def test_checkpoint_then_verify_then_each_attack(config: Path) -> None:
    settings = load_settings(config)
    audit_setup.install(settings)  # what `zhiban bot` does at start
    key_file = config.parent / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    _write(settings, 4)

    taken = _cli("audit", "checkpoint", "-c", str(config))
    assert taken.exit_code == 0, taken.output
    assert "checkpoint taken: entry 4" in taken.output and "!audit:office.example" in taken.output
    _write(settings, 1)

    intact = _cli("audit", "verify", "-c", str(config))
    assert intact.exit_code == 0, intact.output
    assert "intact: 5 entries verified, sealed from entry 1" in intact.output
    assert "2 checkpoint(s)" in intact.output and "at entry 4" in intact.output

    _on_db(settings, lambda db: rewrite(db, 2, actor="@mallory:x"))
    edited = _cli("audit", "verify", "-c", str(config))
    assert edited.exit_code == 1 and "BROKEN at entry 2" in edited.output and "altered" in edited.output
    refused = _cli("audit", "checkpoint", "-c", str(config))
    assert refused.exit_code == 1 and "no checkpoint taken" in refused.output


def test_cutting_the_end_or_everything_fails_verify(config: Path) -> None:
    settings = load_settings(config)
    audit_setup.install(settings)
    _write(settings, 4)
    assert _cli("audit", "checkpoint", "-c", str(config)).exit_code == 0

    _on_db(settings, lambda db: cut_from(db, 3))
    cut = _cli("audit", "verify", "-c", str(config))
    assert cut.exit_code == 1 and "BROKEN at entry 3" in cut.output and "removed" in cut.output

    _on_db(settings, lambda db: cut_from(db, 1))
    emptied = _cli("audit", "verify", "-c", str(config))
    assert emptied.exit_code == 1 and "BROKEN at entry 1" in emptied.output and "counted 4" in emptied.output


def test_the_key_can_come_from_the_environment(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHIBAN_AUDIT__KEY", "e" * 40)
    settings = load_settings(config)
    audit_setup.install(settings)
    _write(settings, 2)
    result = _cli("audit", "verify", "-c", str(config))
    assert result.exit_code == 0 and "intact: 2 entries verified" in result.output
    assert not (config.parent / "audit.key").exists()
    monkeypatch.setenv("ZHIBAN_AUDIT__KEY", "f" * 40)
    wrong = _cli("audit", "verify", "-c", str(config))
    assert wrong.exit_code == 1 and "BROKEN at entry 1" in wrong.output


def test_bad_audit_settings_are_named_at_start(tmp_path: Path) -> None:
    path = tmp_path / "zhiban.toml"
    path.write_text('[audit]\nroom = "#audit:office.example"\nkey = "short"\n', encoding="utf-8")
    result = _cli("audit", "verify", "-c", str(path))
    assert result.exit_code == 2
    assert "audit.room" in result.output and "audit.key" in result.output and "Traceback" not in result.output
