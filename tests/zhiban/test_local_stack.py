"""`zhiban up` (what `make demo` runs): from nothing to a working bot, then again on the same data."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from zhiban.local.homeserver import LocalHomeserver
from zhiban.local.stack import DEMO_PEOPLE

pytestmark = pytest.mark.e2e


def run_up(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBAN_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "zhiban.cli",
            "up",
            "--data-dir",
            str(data_dir),
            "--exit-after-tour",
            "--embedded-redis",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def display_name(homeserver: str, user_id: str) -> str:
    return profile(homeserver, user_id)["displayname"]


def profile(homeserver: str, user_id: str) -> dict[str, str]:
    url = f"{homeserver}/_matrix/client/v3/profile/{quote(user_id)}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return {key: str(value) for key, value in json.load(resp).items()}


def test_up_plays_the_tour_and_reuses_its_data(tmp_path: Path) -> None:
    first = run_up(tmp_path / "data")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "(embedded)" in first.stdout
    assert "🤖 🏓 在线" in first.stdout  # the bot answered the tour's first line
    assert "Online" in first.stdout  # and switched to English when asked
    logins = re.findall(r"(@\w+:localhost)\s+password (\S+)", first.stdout)
    assert len(logins) >= 4
    homeserver = re.search(r"homeserver\s+(http://\S+)", first.stdout)
    assert homeserver is not None
    assert "👤 @zhao:localhost: !帮助" in first.stdout  # the whole tour
    # The logins and the next step come again after the tour, at the end of start-up.
    after_tour = first.stdout.rsplit("🤖", 1)[1]
    assert len(re.findall(r"@\w+:localhost\s+password", after_tour)) >= 4
    assert "Next: open Element" in after_tour and f"log in as {logins[0][0]}" in after_tour

    second = run_up(tmp_path / "data")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert re.findall(r"(@\w+:localhost)\s+password (\S+)", second.stdout) == logins
    assert homeserver.group(1) in second.stdout  # same homeserver, same accounts
    assert "🤖 🏓 在线" in second.stdout  # the bot answers again
    assert "The tour was played on" in second.stdout
    assert "!帮助" not in second.stdout.split("Next:")[0]  # the tour is not played on every start
    assert "Next: open Element" in second.stdout


def test_up_gives_demo_people_chinese_names(tmp_path: Path) -> None:
    """The bot's cards and every client show 张主任, not @zhang:localhost."""

    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIBAN_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "zhiban.cli",
            "up",
            "--data-dir",
            str(data),
            "--no-tour",
            "--exit-after-tour",
            "--embedded-redis",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not (data / "tour.json").exists()  # no tour played: the next start still plays it

    async def profiles() -> dict[str, dict[str, str]]:
        hs = LocalHomeserver(data / "synapse")
        hs.prepare()
        await hs.start()
        try:
            return {lp: profile(hs.base_url, hs.user_id(lp)) for lp, _, _ in DEMO_PEOPLE}
        finally:
            await hs.stop()

    shown = asyncio.run(profiles())
    assert {lp: p["displayname"] for lp, p in shown.items()} == {lp: name for lp, name, _ in DEMO_PEOPLE}
    assert {"张主任", "李值班", "王科长", "赵处长"} == {p["displayname"] for p in shown.values()}
    # Each has an avatar of their own, uploaded to the homeserver.
    avatars = [p.get("avatar_url", "") for p in shown.values()]
    assert all(a.startswith("mxc://localhost/") for a in avatars) and len(set(avatars)) == len(avatars), avatars
