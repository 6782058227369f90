"""`zhiban worker --config FILE`, started as the README says, runs its jobs with that file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import MakeBot
from tests.support.fixtures import MakeUser

pytestmark = pytest.mark.e2e


async def test_a_worker_started_with_config_from_another_folder_fires_timers(
    make_bot: MakeBot, make_user: MakeUser, tmp_path: Path
) -> None:
    bot = await make_bot(e2ee=False)
    alice = await make_user("alice")
    room = await alice.create_room(invite=[bot.user_id])
    await alice.wait_for_member(room, bot.user_id)
    mark = alice.mark()
    await alice.send_text(room, "!remind room in 2 seconds 巡查防汛物资仓库")
    await alice.wait_for_message(room, sender=bot.user_id, contains="R", since=mark)

    # No $ZHIBAN_CONFIG, and a working folder without a zhiban.toml: only --config names the file.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith("ZHIBAN_")}
    zhiban = Path(sys.executable).with_name("zhiban")
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child, not awaited
        [str(zhiban), "worker", "--config", str(bot.config_path)],
        cwd=elsewhere,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        # "⏰ 提醒 R…" is the reminder itself ("⏰ 已设提醒 R…" only confirmed it).
        fired = await alice.wait_for_message(room, sender=bot.user_id, contains="⏰ 提醒", since=mark, timeout=60)
        assert "巡查防汛物资仓库" in (fired.body or "")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert not list(elsewhere.iterdir()), "the worker's jobs made a database of their own"
