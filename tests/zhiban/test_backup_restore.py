"""`zhiban backup` / `zhiban restore`: a lost server comes back whole, and a damaged archive is refused."""

from __future__ import annotations

import asyncio
import io
import shutil
import sqlite3
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from records import audit
from records.audit_seal import install
from records.config import Settings, load_settings
from records.db import Database
from records.models import AuditEntry
from zhiban import audit_setup
from zhiban.backup import libpq_url
from zhiban.cli import app


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Iterator[Path]:
    data = tmp_path / "data"
    data.mkdir()
    path = tmp_path / "zhiban.toml"
    db_line = "" if database_url.startswith("sqlite") else f'[database]\nurl = "{database_url}"\n'
    if database_url.startswith("sqlite"):
        # The database lives in the data folder, as in a default deployment.
        shutil.move(database_url.split(":///", 1)[1], data / "zhiban.db")
    path.write_text(
        f'data_dir = "{data}"\n{db_line}[audit]\nroom = "!audit:office.example"\n',
        encoding="utf-8",
    )
    yield path
    install(None)


def _cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _subjects(settings: Settings) -> list[str]:
    async def read() -> list[str]:
        db = Database(settings.database_url)
        try:
            async with db.reading() as session:
                return list((await session.execute(select(AuditEntry.subject).order_by(AuditEntry.seq))).scalars())
        finally:
            await db.dispose()

    return asyncio.run(read())


def _seed(settings: Settings) -> None:
    """A running office: sealed audit entries, a checkpoint, and the bot's crypto store."""
    audit_setup.install(settings)

    async def write() -> None:
        db = Database(settings.database_url)
        try:
            for i in range(5):
                async with db.transaction() as session:
                    await audit.record(session, actor="@zhang:x", action="approval.decide", subject=f"A{i}")
        finally:
            await db.dispose()

    asyncio.run(write())
    store = settings.data_dir / "bot-store"
    store.mkdir()
    (store / "session.json").write_text('{"device_id": "ZHIBANDEV"}', encoding="utf-8")
    olm = sqlite3.connect(store / "zhiban_ZHIBANDEV.db")
    olm.execute("PRAGMA journal_mode=WAL")  # a live store, as nio keeps it
    olm.execute("CREATE TABLE olm (account TEXT)")
    olm.execute("INSERT INTO olm VALUES ('pickled-device-keys')")
    olm.commit()
    olm.close()


def _wipe(settings: Settings, config: Path) -> None:
    """The server is lost: data folder, config and database all gone."""
    shutil.rmtree(settings.data_dir)
    config.unlink()
    if not settings.database_url.startswith("sqlite"):

        async def drop() -> None:
            db = Database(settings.database_url)
            try:
                async with db.transaction() as session:
                    await session.execute(text("DROP SCHEMA public CASCADE"))
                    await session.execute(text("CREATE SCHEMA public"))
            finally:
                await db.dispose()

        asyncio.run(drop())


def _backup(config: Path, tmp_path: Path) -> tuple[Settings, Path, list[str]]:
    settings = load_settings(config)
    _seed(settings)
    taken = _cli("audit", "checkpoint", "-c", str(config))
    assert taken.exit_code == 0, taken.output
    before = _subjects(settings)
    archive = tmp_path / "backups" / "office.tar.gz"
    made = _cli("backup", str(archive), "-c", str(config))
    assert made.exit_code == 0, made.output
    assert "backup written to" in made.output
    install(None)
    return settings, archive, before


def test_backup_wipe_restore_brings_everything_back(config: Path, tmp_path: Path) -> None:
    settings, archive, before = _backup(config, tmp_path)
    _wipe(settings, config)

    restored = _cli("restore", str(archive), "-c", str(config))

    assert restored.exit_code == 0, restored.output
    assert "audit trail is intact: 5 entries verified with the restored key" in restored.output
    assert _subjects(settings) == before
    assert config.exists()
    store = settings.data_dir / "bot-store"
    assert (store / "session.json").read_text(encoding="utf-8") == '{"device_id": "ZHIBANDEV"}'
    olm = sqlite3.connect(store / "zhiban_ZHIBANDEV.db")
    assert olm.execute("SELECT account FROM olm").fetchall() == [("pickled-device-keys",)]
    olm.close()
    verify = _cli("audit", "verify", "-c", str(config))
    assert verify.exit_code == 0, verify.output
    assert (settings.data_dir / "audit-checkpoints.jsonl").exists()  # the checkpoint file came back too
    assert "consistent with 2 checkpoint(s)" in verify.output  # the table's and the file's copy


def test_restore_refuses_a_data_folder_in_use(config: Path, tmp_path: Path) -> None:
    settings, archive, before = _backup(config, tmp_path)
    refused = _cli("restore", str(archive), "-c", str(config))
    assert refused.exit_code == 1
    assert "not empty" in refused.output and "Nothing was restored" in refused.output
    assert _subjects(settings) == before


def _tamper(archive: Path, member: str) -> Path:
    """The same archive with one byte of one file changed (and the manifest left as it was)."""
    bad = archive.with_name("tampered.tar.gz")
    with tarfile.open(archive, "r:gz") as src, tarfile.open(bad, "w:gz") as dst:
        for info in src.getmembers():
            data = src.extractfile(info).read() if info.isfile() else None  # type: ignore[union-attr]
            if info.name == member and data is not None:
                data = data[:-1] + bytes([data[-1] ^ 1])
            dst.addfile(info, io.BytesIO(data) if data is not None else None)
    return bad


def test_a_tampered_archive_is_refused_and_nothing_is_written(config: Path, tmp_path: Path) -> None:
    settings, archive, _ = _backup(config, tmp_path)
    _wipe(settings, config)
    bad = _tamper(archive, "audit/audit.key")

    refused = _cli("restore", str(bad), "-c", str(config))

    assert refused.exit_code == 1
    assert "audit/audit.key does not match its checksum" in refused.output
    assert not settings.data_dir.exists() and not config.exists()
    if not settings.database_url.startswith("sqlite"):

        async def tables() -> int:
            db = Database(settings.database_url)
            try:
                async with db.reading() as session:
                    sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                    return int((await session.execute(text(sql))).scalar() or 0)
            finally:
                await db.dispose()

        assert asyncio.run(tables()) == 0


def test_a_truncated_archive_is_refused(config: Path, tmp_path: Path) -> None:
    settings, archive, _ = _backup(config, tmp_path)
    _wipe(settings, config)
    cut = archive.with_name("cut.tar.gz")
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = _cli("restore", str(cut), "-c", str(config))
    assert refused.exit_code == 1
    assert "nothing was restored" in refused.output
    assert not settings.data_dir.exists()


def test_libpq_url_drops_the_driver() -> None:
    assert libpq_url("postgresql+asyncpg://u@h/db") == "postgresql://u@h/db"


def test_without_pg_dump_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    config = tmp_path / "zhiban.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[database]\nurl = "postgresql://office@127.0.0.1/zhiban"\n')
    made = _cli("backup", str(tmp_path / "b.tar.gz"), "-c", str(config))
    assert made.exit_code == 1
    assert "pg_dump is not installed" in made.output and "postgresql-client" in made.output
    assert not (tmp_path / "b.tar.gz").exists()
