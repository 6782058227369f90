"""The development set the voice passes are tuned on: large, varied, and disjoint from the check set.

The shared voice set stays useful as a check only while nothing is tuned on it: no dev sentence
may repeat one of its sentences, and no test or pass may quote what the model wrote for it.
"""

from __future__ import annotations

import re
from pathlib import Path

from bench.voice_quality import load_refs
from tests.support.voice_samples import SHARED_VOICE

DEV = Path(__file__).resolve().parents[2] / "bench" / "voice_dev"


def _sentences(text: str) -> set[str]:
    return {s for s in re.split(r"[。！？，；\s]+", text) if len(s) >= 6}


def test_the_dev_set_has_over_a_hundred_clips_of_several_voices_and_channels() -> None:
    rows = load_refs(DEV)
    assert len(rows) >= 100
    assert all(path.is_file() and path.stat().st_size < 40_000 for path, _, _ in rows)
    varied = [path.stem.split("_") for path, _, _ in rows if path.parent.name == "varied"]
    assert len({voice for _, voice, _ in varied}) >= 6
    assert {channel for _, _, channel in varied} == {"clean", "noise", "phone", "phone-noise"}
    assert sum(path.stat().st_size for path, _, _ in rows) < 5_000_000


def test_no_dev_sentence_comes_from_the_shared_set() -> None:
    shared = {s for _, _, text in load_refs(SHARED_VOICE) for s in _sentences(text)}
    dev = {s for _, _, text in load_refs(DEV) for s in _sentences(text)}
    assert shared, f"the shared voice set is expected at {SHARED_VOICE}"
    assert dev & shared == set()
