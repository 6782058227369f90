"""Start a throwaway Synapse for a test session."""

from __future__ import annotations

from pathlib import Path

from zhiban.local.homeserver import LocalHomeserver

__all__ = ["start_test_homeserver"]


async def start_test_homeserver(tmp_root: Path, *, stock_rate_limits: bool = False) -> LocalHomeserver:
    """Prepare and start a fresh homeserver under `tmp_root` on a random loopback port
    (without rate limits worth the name, unless `stock_rate_limits`: Synapse's own)."""
    hs = LocalHomeserver(Path(tmp_root) / "synapse", stock_rate_limits=stock_rate_limits)
    await hs.start()
    return hs
