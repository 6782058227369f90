"""Where the shared voice samples are: ../shared/voice beside the repository, wherever it is cloned."""

from __future__ import annotations

from pathlib import Path

SHARED_VOICE = Path(__file__).resolve().parents[3] / "shared" / "voice"
MISSING_REASON = (
    f"the shared voice samples are not at {SHARED_VOICE} (they sit beside the repository in ../shared/voice)"
)
