"""Start a throwaway Synapse for a test session."""

from __future__ import annotations

from pathlib import Path

from zhiban.homeserver import LocalHomeserver

__all__ = ["start_test_homeserver"]


async def start_test_homeserver(tmp_root: Path) -> LocalHomeserver:
    """Prepare and start a fresh homeserver under `tmp_root` on a random loopback port."""
    hs = LocalHomeserver(Path(tmp_root) / "synapse")
    await hs.start()
    return hs
