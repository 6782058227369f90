"""`zhiban up` (what `make demo` runs): from nothing to a working bot, then again on the same data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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

    second = run_up(tmp_path / "data")
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert re.findall(r"(@\w+:localhost)\s+password (\S+)", second.stdout) == logins
    assert homeserver.group(1) in second.stdout  # same homeserver, same accounts
    assert "🤖 🏓 在线" in second.stdout
