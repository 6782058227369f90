"""The assembled Whisper model is checked against sha256 sums recorded in the code.

A wheel's RECORD only vouches for that wheel: a substituted package brings a RECORD that
matches its own content. The recorded sums of the published packages catch it.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from voice import model as model_mod
from voice.model import KNOWN_SHA256, MANIFEST, ModelUnavailable, ensure_model


def _sha256(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def test_the_recorded_sums_are_those_of_the_installed_packages() -> None:
    part1, part2, side = model_mod._sources()
    versions = model_mod._installed_versions()
    known = KNOWN_SHA256[(versions[model_mod.PART1_DIST] or "", versions[model_mod.PART2_DIST] or "")]
    assert _sha256(part1.path, part2.path) == known["model.bin"]
    for name, src in side.items():
        assert _sha256(src.path) == known[name]


def test_a_substituted_part_with_a_matching_record_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part1, part2, side = model_mod._sources()
    bad = tmp_path / "model.bin.part2"
    shutil.copyfile(part2.path, bad)
    with bad.open("r+b") as fh:  # one weight changed: same size, and its own RECORD agrees
        fh.seek(part2.path.stat().st_size // 2)
        byte = fh.read(1)
        fh.seek(-1, 1)
        fh.write(bytes([byte[0] ^ 0xFF]))
    forged = model_mod._Source(bad, part2.size, _sha256(bad))
    monkeypatch.setattr(model_mod, "_sources", lambda: (part1, forged, side))

    folder = tmp_path / "whisper"
    with pytest.raises(ModelUnavailable, match=r"sha256 .* not the recorded") as caught:
        ensure_model(folder)
    assert "reinstall" in str(caught.value)
    assert not (folder / "model.bin").exists() and not (folder / MANIFEST).exists()
    assert not list(folder.glob(".*"))  # no half-written temp file either


def test_weight_packages_of_an_unchecked_version_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_mod, "_sources", lambda: (None, None, {}))
    monkeypatch.setattr(
        model_mod, "_installed_versions", lambda: {model_mod.PART1_DIST: "1.0.9", model_mod.PART2_DIST: "1.0.9"}
    )
    with pytest.raises(ModelUnavailable, match="no recorded sha256"):
        ensure_model(tmp_path / "whisper")
    assert not (tmp_path / "whisper").exists()
