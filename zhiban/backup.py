"""`zhiban backup` / `zhiban restore`: everything a deployment needs to come back, in one tar.gz.

The archive holds the database (SQLite through the online backup API, never a copy of a live
WAL file; PostgreSQL as a `pg_dump` custom-format dump), the bot's crypto store, the config file,
the audit key and checkpoint file, voice files kept on disk, and a manifest naming each file
with its sha256 and size. A restore checks every file against the manifest before it writes
anything, so a damaged archive is refused whole, with the bad file named.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from records.config import Settings, load_settings
from zhiban.audit_setup import checkpoint_file, key_file

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/zhiban.db"
PG_MEMBER = "database/zhiban.pgdump"
CONFIG_MEMBER = "config/zhiban.toml"
KEY_MEMBER = "audit/audit.key"
CHECKPOINT_MEMBER = "audit/audit-checkpoints.jsonl"
# Folders under data_dir worth keeping: the bot's device keys (losing them means the bot can no
# longer read encrypted rooms) and voice files, if a deployment keeps them on disk.
DATA_DIRS = ("bot-store", "voice")


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in plain words."""


@dataclass
class Restored:
    manifest: dict[str, Any]
    settings: Settings
    audit_ok: bool
    audit_summary: str
    notes: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def libpq_url(url: str) -> str:
    """pg_dump speaks libpq, which knows no SQLAlchemy driver suffix (postgresql+asyncpg://)."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed, and a PostgreSQL database is backed up and restored with it. "
            "Install the PostgreSQL client tools of your server's major version "
            "(Debian/Ubuntu: apt install postgresql-client), then run this again."
        )
    return found


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live database, WAL included, taken through SQLite itself."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _looks_sqlite(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(16) == b"SQLite format 3\x00"


def _copy_tree(source: Path, target: Path) -> None:
    """Copy a folder; its SQLite files (the crypto store is one) go through the backup API."""
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal")):
            dest.parent.mkdir(parents=True, exist_ok=True)
            if _looks_sqlite(path):
                _sqlite_copy(path, dest)
            else:
                shutil.copy2(path, dest)


def _run_db(url: str, work: Callable[[Any], Any]) -> Any:
    from records.db import Database

    async def run() -> Any:
        db = Database(url, pooled=False)
        try:
            async with db.reading() as session:
                return await work(session)
        finally:
            await db.dispose()

    return asyncio.run(run())


def alembic_revision(url: str) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    async def read(session: Any) -> str | None:
        try:
            return (await session.execute(text("SELECT version_num FROM alembic_version"))).scalar()  # type: ignore[no-any-return]
        except SQLAlchemyError:
            return None

    return _run_db(url, read)  # type: ignore[no-any-return]


def _pg_has_tables(url: str) -> bool:
    from sqlalchemy import text

    async def count(session: Any) -> int:
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        return int((await session.execute(text(sql))).scalar())

    return bool(_run_db(url, count))


def _zhiban_version() -> str:
    try:
        return metadata.version("zhiban")
    except metadata.PackageNotFoundError:
        return "unknown"


def _stage(settings: Settings, config: Path, stage: Path) -> list[str]:
    """Put every file of the backup under `stage`; return the notes worth telling the operator."""
    notes: list[str] = []
    url = settings.database_url
    (stage / "database").mkdir()
    if _is_sqlite(url):
        source = sqlite_path(url)
        if not source.exists():
            raise BackupError(f"there is no database at {source}; nothing to back up")
        _sqlite_copy(source, stage / SQLITE_MEMBER)
    else:
        done = subprocess.run(
            [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(stage / PG_MEMBER), libpq_url(url)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    if config.exists():
        (stage / "config").mkdir()
        shutil.copy2(config, stage / CONFIG_MEMBER)
    else:
        notes.append(f"no config file at {config}: the settings came from the environment only")
    (stage / "audit").mkdir()
    if key_file(settings).exists():
        shutil.copy2(key_file(settings), stage / KEY_MEMBER)
    elif settings.audit.key:
        notes.append("the audit key is given in the config or environment (audit.key), not as a file: keep it safe")
    else:
        notes.append(f"no audit key at {key_file(settings)}: entries written so far are unsealed")
    if checkpoint_file(settings).exists():
        shutil.copy2(checkpoint_file(settings), stage / CHECKPOINT_MEMBER)
    for name in DATA_DIRS:
        if (settings.data_dir / name).is_dir():
            _copy_tree(settings.data_dir / name, stage / "data" / name)
    return notes


def _files(stage: Path) -> dict[str, dict[str, Any]]:
    return {
        path.relative_to(stage).as_posix(): {"sha256": _sha256(path), "size": path.stat().st_size}
        for path in sorted(stage.rglob("*"))
        if path.is_file()
    }


def create_backup(settings: Settings, config: Path, archive: Path) -> tuple[dict[str, Any], list[str]]:
    """Write the archive (atomically: a failed backup leaves no half archive behind)."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zhiban-backup-") as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        notes = _stage(settings, config, stage)
        manifest = {
            "version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "zhiban_version": _zhiban_version(),
            "alembic_revision": alembic_revision(settings.database_url),
            "database": "sqlite" if _is_sqlite(settings.database_url) else "postgresql",
            "files": _files(stage),
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            for path in sorted(stage.iterdir()):
                tar.add(path, arcname=path.name)
        partial.chmod(0o600)  # it holds the audit key and the bot's device keys
        partial.replace(archive)
    return manifest, notes


def _safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts


def _unpack(archive: Path, stage: Path) -> dict[str, Any]:
    """Extract into the staging folder and check it against the manifest; raise naming the bad file."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                if not _safe_member(member.name) or not (member.isfile() or member.isdir()):
                    raise BackupError(f"{archive} is refused: it holds an unexpected entry {member.name!r}")
            if hasattr(tarfile, "data_filter"):  # Python 3.11.4+; the checks above cover older ones
                tar.extractall(stage, filter="data")
            else:  # pragma: no cover
                tar.extractall(stage)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError(f"{archive} is not a readable backup archive ({exc}); nothing was restored") from None
    try:
        manifest: dict[str, Any] = json.loads((stage / MANIFEST).read_text(encoding="utf-8"))
        expected: dict[str, dict[str, Any]] = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise BackupError(f"{archive} is refused: its {MANIFEST} is missing or unreadable") from None
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is a backup of format {manifest.get('version')}, this Zhiban reads {FORMAT_VERSION}"
        )
    found = _files(stage)
    found.pop(MANIFEST, None)
    for name, want in expected.items():
        got = found.get(name)
        if got is None:
            raise BackupError(f"{archive} is refused: {name} is missing from it; nothing was restored")
        if got != want:
            raise BackupError(
                f"{archive} is refused: {name} does not match its checksum (damaged or altered); nothing was restored"
            )
    extra = sorted(set(found) - set(expected))
    if extra:
        raise BackupError(f"{archive} is refused: {extra[0]} is not in its manifest; nothing was restored")
    return manifest


def _occupied(settings: Settings, config: Path, manifest: dict[str, Any]) -> list[str]:
    """What already exists where the restore would write."""
    taken: list[str] = []
    if settings.data_dir.exists() and any(settings.data_dir.iterdir()):
        taken.append(f"the data folder {settings.data_dir} is not empty")
    if config.exists():
        taken.append(f"a config file exists at {config}")
    for path in (key_file(settings), checkpoint_file(settings)):
        if path.exists() and not path.is_relative_to(settings.data_dir):
            taken.append(f"{path} exists")
    url = settings.database_url
    if _is_sqlite(url):
        if sqlite_path(url).exists() and not sqlite_path(url).is_relative_to(settings.data_dir):
            taken.append(f"a database exists at {sqlite_path(url)}")
    elif _pg_has_tables(url):
        taken.append("the PostgreSQL database already has tables")
    return taken


@contextmanager
def _placing() -> Iterator[list[Path]]:
    """Remember what the restore wrote, and take it back if a later step fails."""
    placed: list[Path] = []
    try:
        yield placed
    except BaseException:
        for path in reversed(placed):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


def _place(source: Path, target: Path, placed: list[Path]) -> None:
    if target.exists():
        shutil.rmtree(target) if target.is_dir() else target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)
    placed.append(target)


def _restore_database(stage: Path, settings: Settings, placed: list[Path], *, force: bool) -> None:
    url = settings.database_url
    if (stage / SQLITE_MEMBER).exists():
        if not _is_sqlite(url):
            raise BackupError("this backup holds a SQLite database, but the config points at PostgreSQL")
        target = sqlite_path(url)
        for suffix in ("-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)  # a stale WAL would replay over the restore
        _place(stage / SQLITE_MEMBER, target, placed)
        target.chmod(0o600)
        return
    if _is_sqlite(url):
        raise BackupError(
            "this backup holds a PostgreSQL dump, but the config points at SQLite; "
            "set database.url (or ZHIBAN_DATABASE__URL) to an empty PostgreSQL database"
        )
    command = [_pg_tool("pg_restore"), "--no-owner", "--exit-on-error", "--dbname", libpq_url(url)]
    if force:
        command += ["--clean", "--if-exists"]
    done = subprocess.run([*command, str(stage / PG_MEMBER)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")


def _verify_audit(settings: Settings) -> tuple[bool, str]:
    from records.audit import verify
    from records.audit_seal import AuditKeyError
    from zhiban.audit_setup import anchors

    try:
        found = anchors(settings, create_key=False)
    except AuditKeyError as exc:
        return False, f"the audit trail could not be checked: {exc}"
    result = _run_db(
        settings.database_url,
        lambda session: verify(session, key=found.key, checkpoint_file=found.checkpoint_file),
    )
    if result.ok:
        return True, f"the audit trail is intact: {result.checked} entries verified with the restored key"
    where = f" at entry {result.broken_at}" if result.broken_at is not None else ""
    return False, f"the audit trail is BROKEN{where}: {result.reason}"


def restore_backup(archive: Path, config: Path, *, data_dir: Path | None = None, force: bool = False) -> Restored:
    """Check the whole archive, then put each file where the restored config expects it.

    `data_dir` overrides the config's data folder (e.g. a new disk); environment variables
    (ZHIBAN_DATABASE__URL, ...) apply as for every command.
    """
    if not archive.is_file():
        raise BackupError(f"there is no backup archive at {archive}")
    with tempfile.TemporaryDirectory(prefix="zhiban-restore-") as tmp:
        stage = Path(tmp)
        manifest = _unpack(archive, stage)
        staged_config = stage / CONFIG_MEMBER
        settings = load_settings(staged_config if staged_config.exists() else config)
        if data_dir is not None:
            settings = settings.model_copy(update={"data_dir": data_dir})
        taken = _occupied(settings, config, manifest)
        if taken and not force:
            raise BackupError(
                "restore writes onto an empty place only, and here "
                + "; ".join(taken)
                + ". Nothing was restored. Use --force to replace what is there."
            )
        with _placing() as placed:
            if not settings.data_dir.exists():
                settings.data_dir.mkdir(parents=True, mode=0o700)
                placed.append(settings.data_dir)
            if staged_config.exists():
                _place(staged_config, config, placed)
            for name in DATA_DIRS:
                if (stage / "data" / name).is_dir():
                    _place(stage / "data" / name, settings.data_dir / name, placed)
            if (stage / KEY_MEMBER).exists():
                _place(stage / KEY_MEMBER, key_file(settings), placed)
                key_file(settings).chmod(0o600)
            if (stage / CHECKPOINT_MEMBER).exists():
                _place(stage / CHECKPOINT_MEMBER, checkpoint_file(settings), placed)
            _restore_database(stage, settings, placed, force=force)
    ok, summary = _verify_audit(settings)
    notes = []
    revision = alembic_revision(settings.database_url)
    if revision != manifest.get("alembic_revision"):
        notes.append(f"the database is at schema {revision}, the backup said {manifest.get('alembic_revision')}")
    return Restored(manifest=manifest, settings=settings, audit_ok=ok, audit_summary=summary, notes=notes)
