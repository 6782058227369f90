"""Backup and restore time for a database of 100,000 records, on SQLite and on PostgreSQL.

The office's database is filled with delivered outbox rows (the largest table a real deployment
grows), plus a few sealed audit entries, then `zhiban backup` and `zhiban restore` (the library
calls behind them) run against a fresh data folder. The restore time includes checking every
checksum and verifying the audit trail with the restored key.

    python -m bench.backup [--rows 100000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from sqlalchemy import func, insert, select

from records import audit
from records.audit_seal import install
from records.config import load_settings
from records.db import Database
from records.migrate import upgrade
from records.models import OutboxMessage
from zhiban import audit_setup
from zhiban.backup import create_backup, restore_backup

PG_ADMIN_URL = os.environ.get("ZHIBAN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BATCH = 10_000


async def _fill(url: str, rows: int) -> None:
    db = Database(url)
    now = datetime.now(UTC)
    try:
        for start in range(0, rows, BATCH):
            batch = [
                {
                    "created_at": now,
                    "room_id": "!duty:office.example",
                    "event_type": "m.room.message",
                    "content": {"msgtype": "m.text", "body": f"值班提醒 #{i}: 请查看防汛物资清单"},
                    "sent_at": now,
                    "event_id": f"$e{i}",
                    "attempts": 1,
                    "failed": False,
                    "priority": 0,
                }
                for i in range(start, min(start + BATCH, rows))
            ]
            async with db.transaction() as session:
                await session.execute(insert(OutboxMessage), batch)  # executemany
        for i in range(20):
            async with db.transaction() as session:
                await audit.record(session, actor="@zhang:office.example", action="bench.fill", subject=f"B{i}")
    finally:
        await db.dispose()


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _count(url: str) -> int:
    db = Database(url)
    try:
        async with db.reading() as session:
            return int((await session.execute(select(func.count()).select_from(OutboxMessage))).scalar() or 0)
    finally:
        await db.dispose()


def _run(kind: str, rows: int, root: Path) -> None:
    data = root / "data"
    data.mkdir()
    config = root / "zhiban.toml"
    lines = [f'data_dir = "{data}"']
    pg_name = ""
    if kind == "postgresql":
        pg_name = f"zhiban_bench_{secrets.token_hex(4)}"
        asyncio.run(_admin(f'CREATE DATABASE "{pg_name}"'))
        lines += ["[database]", f'url = "{PG_ADMIN_URL.rsplit("/", 1)[0]}/{pg_name}"']
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        settings = load_settings(config)
        upgrade(settings.database_url)
        audit_setup.install(settings)
        started = time.perf_counter()
        asyncio.run(_fill(settings.database_url, rows))
        filled = time.perf_counter() - started
        install(None)

        archive = root / "office.tar.gz"
        started = time.perf_counter()
        create_backup(settings, config, archive)
        backup_s = time.perf_counter() - started

        shutil.rmtree(data)
        config.unlink()
        if pg_name:
            asyncio.run(_admin(f'DROP DATABASE "{pg_name}" WITH (FORCE)'))
            asyncio.run(_admin(f'CREATE DATABASE "{pg_name}"'))
        started = time.perf_counter()
        restored = restore_backup(archive, config)
        restore_s = time.perf_counter() - started
        size = archive.stat().st_size / 1e6
        back = asyncio.run(_count(restored.settings.database_url))
        print(
            f"{kind:<10} {rows:>7} rows (filled in {filled:.1f} s): backup {backup_s:.2f} s, "
            f"restore {restore_s:.2f} s (checksums + audit verify), {back} rows back, archive {size:.1f} MB; "
            f"{restored.audit_summary}",
            flush=True,
        )
    finally:
        if pg_name:
            asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    for kind in [args.only] if args.only else ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory(prefix="zhiban-bench-backup-") as tmp:
            _run(kind, args.rows, Path(tmp))


if __name__ == "__main__":
    main()
