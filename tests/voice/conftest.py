"""Shared fixtures for the voice tests: the shared voice set and one model per session."""

from __future__ import annotations

from pathlib import Path

import pytest

VOICE_DIR = Path(__file__).resolve().parents[3] / "shared" / "voice"


def _refs() -> dict[str, tuple[str, str]]:
    path = VOICE_DIR / "refs.tsv"
    if not path.is_file():
        return {}
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, lang, text = line.split("\t")
            rows[name] = (lang, text)
    return rows


REFS = _refs()


@pytest.fixture(scope="session")
def voice_dir() -> Path:
    if not REFS:
        pytest.skip(
            f"the shared voice samples are not at {VOICE_DIR} (they sit beside the repository in ../shared/voice)"
        )
    return VOICE_DIR


@pytest.fixture(scope="session")
def voice_refs(voice_dir: Path) -> dict[str, tuple[str, str]]:
    """name -> (language, reference transcript)."""
    return REFS


@pytest.fixture(scope="session")
def transcriber():  # type: ignore[no-untyped-def]
    """The real engine, assembled from the weight packages and loaded once per session.

    The voice extra is part of ``make test``'s install, so a missing engine or weight package is
    a failure here, never a skip; and a model not assembled yet is simply assembled now.
    """
    from voice.engine import FasterWhisperTranscriber

    engine = FasterWhisperTranscriber()  # ensure_model: joins the two weight packages on first use
    engine.model  # noqa: B018  (load now so the first test does not pay for it)
    return engine
