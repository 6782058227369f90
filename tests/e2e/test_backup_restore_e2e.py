"""A bot restored from `zhiban backup` onto a wiped machine answers again, remembering its people."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def _zhiban(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as an operator runs it (its own process, its own event loop)."""
    command = [sys.executable, "-m", "zhiban.cli", *args]
    return await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=300)


async def test_the_bot_answers_after_backup_wipe_restore(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    bot = await make_bot(start=False, e2ee=False)
    bot.spawn()
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id, timeout=60)
    start = alice.mark()
    await alice.send_text(room, "!lang en")
    await alice.wait_for_message(room, sender=bot.user_id, contains="English", since=start, timeout=60)
    bot.terminate()

    archive = tmp_path / "office.tar.gz"
    made = await _zhiban("backup", str(archive), "-c", str(bot.config_path))
    assert made.returncode == 0, made.stdout + made.stderr
    shutil.rmtree(bot.settings.data_dir)  # the machine is lost
    restored = await _zhiban("restore", str(archive), "-c", str(bot.config_path))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "audit trail is intact" in restored.stdout

    bot.spawn()
    probe = alice.mark()
    await alice.send_text(room, "!ping")
    # Answered, and in English: alice's language choice came back with the database.
    await alice.wait_for_message(room, sender=bot.user_id, contains="Online", since=probe, timeout=90)
    bot.terminate()
