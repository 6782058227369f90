"""Decode any audio the clients send (Ogg/Opus, MP4/AAC, MP3, WAV, ...) to 16 kHz mono float32.

We run ffmpeg ourselves rather than through ``pydub.AudioSegment.from_file``: pydub probes the
input with ``ffprobe`` first (which the static build from imageio-ffmpeg does not ship) and
resamples with ``audioop`` (no anti-alias filter, and gone from Python 3.13). ffmpeg does the
container probing, decoding, down-mixing and band-limited resampling in one pass, and ``-t``
stops it early, so an hour-long file is refused after decoding just past the limit instead of
being decoded whole into memory.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from voice.texts import text

SAMPLE_RATE = 16_000
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_MAX_SECONDS = 600.0
#: ffmpeg on a 2-core box decodes 10 min of Opus in well under a second; this only guards hangs.
DEFAULT_TIMEOUT = 120.0


class AudioError(Exception):
    """Base of refusals the bot can show as is: ``user_message(lang)`` is short and bilingual."""

    key = "voice.corrupt"

    def __init__(self, detail: str = "", **values: object) -> None:
        self.values = values
        super().__init__(detail or self.user_message("en"))

    def user_message(self, lang: str = "zh") -> str:
        return text(self.key, lang, **self.values)


class AudioTooLarge(AudioError):
    key = "voice.too_large"

    def __init__(self, size: int, limit: int) -> None:
        self.size, self.limit = size, limit
        super().__init__(size_mb=size / 1_048_576, limit_mb=limit / 1_048_576)


class AudioTooLong(AudioError):
    key = "voice.too_long"

    def __init__(self, limit_seconds: float) -> None:
        self.limit_seconds = limit_seconds
        super().__init__(limit_zh=_minutes(limit_seconds, "zh"), limit_en=_minutes(limit_seconds, "en"))

    def user_message(self, lang: str = "zh") -> str:
        limit = self.values["limit_zh" if lang == "zh" else "limit_en"]
        return text(self.key, lang, limit=limit)


class AudioCorrupt(AudioError):
    key = "voice.corrupt"


class AudioEmpty(AudioCorrupt):
    """Zero bytes, or a container without any audio samples."""

    key = "voice.empty"


class FfmpegMissing(AudioError):
    key = "voice.no_ffmpeg"


def _minutes(seconds: float, lang: str) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        n = int(seconds // 60)
        return f"{n} 分钟" if lang == "zh" else f"{n} min"
    return f"{seconds:g} 秒" if lang == "zh" else f"{seconds:g} s"


@functools.cache
def ffmpeg_exe() -> str:
    """``ffmpeg`` from PATH, else the static build bundled with imageio-ffmpeg."""
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise FfmpegMissing("ffmpeg is not on PATH and imageio-ffmpeg is not installed") from exc
    try:
        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except RuntimeError as exc:  # imageio-ffmpeg raises RuntimeError when its binary is absent
        raise FfmpegMissing(str(exc)) from exc


def ffmpeg_status() -> tuple[bool, str]:
    """Plain-words health check for ``zhiban doctor``."""
    try:
        exe = ffmpeg_exe()
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, timeout=30, check=True)
    except FfmpegMissing:
        return False, "ffmpeg not found; install it (apt install ffmpeg) or run: pip install 'zhiban[voice]'"
    except (OSError, subprocess.SubprocessError) as exc:
        return False, f"ffmpeg could not run ({exc}); reinstall it: pip install --force-reinstall imageio-ffmpeg"
    first_line = out.stdout.decode(errors="replace").splitlines()[0] if out.stdout else "ffmpeg"
    return True, f"{first_line} ({exe})"


def decode_audio(
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_seconds: float = DEFAULT_MAX_SECONDS,
    timeout: float = DEFAULT_TIMEOUT,
) -> np.ndarray:
    """Return ``data`` as 16 kHz mono float32 samples in [-1, 1].

    Raises AudioTooLarge / AudioTooLong / AudioEmpty / AudioCorrupt / FfmpegMissing; all are
    AudioError, whose ``user_message(lang)`` can go straight into the chat reply.
    The mimetype is deliberately not needed: encrypted attachments arrive as
    application/octet-stream, and ffmpeg probes the real container from the bytes.
    """
    if len(data) > max_bytes:
        raise AudioTooLarge(len(data), max_bytes)
    if not data:
        raise AudioEmpty("zero-length audio")
    exe = ffmpeg_exe()
    # A real file, not a pipe: MP4/M4A from iOS keeps its index (moov) at the end and needs seeking.
    fd, in_path = tempfile.mkstemp(prefix="zhiban-voice-", suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        cmd = [
            exe, "-nostdin", "-hide_banner", "-loglevel", "error",
            "-i", in_path,
            "-map", "0:a:0",  # first audio stream; a file without one fails here -> AudioCorrupt
            "-vn", "-sn", "-dn",
            "-t", f"{max_seconds + 1:.3f}",  # decode just past the cap, never the whole file
            "-ac", "1", "-ar", str(SAMPLE_RATE),
            "-f", "f32le", "pipe:1",
        ]  # fmt: skip
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise AudioCorrupt(f"ffmpeg timed out after {timeout:g}s") from exc
    finally:
        Path(in_path).unlink(missing_ok=True)
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioCorrupt(f"ffmpeg failed: {detail[-1] if detail else proc.returncode}")
    usable = len(proc.stdout) - len(proc.stdout) % 4
    samples = np.frombuffer(proc.stdout[:usable], dtype=np.float32).copy()
    if samples.size == 0:
        raise AudioEmpty("no audio samples decoded")
    if samples.size > max_seconds * SAMPLE_RATE:
        raise AudioTooLong(max_seconds)
    return samples


def duration_of(samples: np.ndarray) -> float:
    """Seconds of 16 kHz audio."""
    return float(samples.shape[0]) / SAMPLE_RATE
