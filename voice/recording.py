"""Whole recordings (a meeting, a phone call): cut into chunks, each transcribed on its own.

Kept free of Matrix and database code, like voice.pipeline: the worker job stores each chunk's
text as it completes (commands/voice/recording_jobs.py), so the plan must be the same every
time the same audio is planned (a resumed run finds the chunks where the first run put them).
"""

from __future__ import annotations

import subprocess
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voice.decode import SAMPLE_RATE, AudioCorrupt, AudioEmpty, AudioTooLarge, AudioTooLong, ffmpeg_exe
from voice.engine import Transcriber, join_segments
from voice.glossary import DEFAULT_GLOSSARY, Glossary
from voice.memory import CorrectionMemory
from voice.pipeline import remember
from voice.postprocess import finalize

#: A chunk ends at the last pause before this many seconds (Whisper's window is 30 s).
CHUNK_SECONDS = 28.0
#: A pause shorter than this inside a chunk is not worth cutting at.
MIN_CHUNK_SECONDS = 5.0
#: A new paragraph (with its own timestamp) starts after a pause this long, or at this length.
PARAGRAPH_PAUSE = 1.0
PARAGRAPH_SECONDS = 60.0
#: The VAD reads the recording this many seconds at a time.
VAD_WINDOW_SECONDS = 600.0

#: 16 kHz mono 16-bit samples (a map of the decoded file, or an array).
Samples = npt.NDArray[np.int16]


@dataclass(frozen=True)
class Chunk:
    start: float
    end: float


def decode_to(folder: Path, data: bytes, *, max_bytes: int, max_seconds: float, timeout: float = 1800.0) -> Samples:
    """The file (audio, or a video's first audio track) as 16 kHz mono 16-bit samples, mapped
    from a file in ``folder`` rather than held in memory: two hours are 230 MB on disk, and the
    worker reads one chunk at a time. Raises the voice.decode.AudioError refusals."""
    if len(data) > max_bytes:
        raise AudioTooLarge(len(data), max_bytes)
    if not data:
        raise AudioEmpty("zero-length file")
    source, pcm = folder / "in.bin", folder / "out.s16"
    source.write_bytes(data)
    cmd = [
        ffmpeg_exe(), "-nostdin", "-hide_banner", "-loglevel", "error",
        "-i", str(source), "-map", "0:a:0", "-vn", "-sn", "-dn",
        "-t", f"{max_seconds + 1:.3f}",  # decode just past the cap, never the whole file
        "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", str(pcm),
    ]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AudioCorrupt(f"ffmpeg timed out after {timeout:g}s") from exc
    source.unlink()
    if proc.returncode != 0:
        detail = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioCorrupt(f"ffmpeg failed: {detail[-1] if detail else proc.returncode}")
    count = pcm.stat().st_size // 2 if pcm.exists() else 0
    if count == 0:
        raise AudioEmpty("no audio samples decoded")
    if count > max_seconds * SAMPLE_RATE:
        raise AudioTooLong(max_seconds)
    return np.memmap(pcm, dtype="<i2", mode="r", shape=(count,))


def seconds_of(samples: Samples) -> float:
    return float(samples.shape[0]) / SAMPLE_RATE


def floats(samples: Samples, start: float = 0.0, end: float | None = None) -> npt.NDArray[np.float32]:
    """Seconds ``start``..``end`` as the float samples the model and the VAD take."""
    stop = None if end is None else int(end * SAMPLE_RATE)
    return np.asarray(samples[int(start * SAMPLE_RATE) : stop], dtype=np.float32) / 32768.0


def _speech(samples: Samples) -> list[tuple[float, float]]:
    """The VAD's speech stretches, window by window (a whole recording as floats would not fit)."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found: list[tuple[float, float]] = []
    total = seconds_of(samples)
    at = 0.0
    while at < total:
        window = floats(samples, at, min(total, at + VAD_WINDOW_SECONDS))
        for s in get_speech_timestamps(window, VadOptions(min_silence_duration_ms=500)):
            found.append((at + s["start"] / SAMPLE_RATE, at + s["end"] / SAMPLE_RATE))
        at += VAD_WINDOW_SECONDS
    return found


def plan_chunks(audio: Samples, *, seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """Chunks of at most ``seconds`` that begin and end in pauses the VAD found.

    Silence between speech is left out (no chunk for a long pause); a stretch of speech longer
    than ``seconds`` is cut where it must. Deterministic for the same samples.
    """
    total = seconds_of(audio)
    chunks: list[Chunk] = []
    start: float | None = None
    end = 0.0
    for s, e in _speech(audio):
        s, e = max(0.0, s - 0.2), min(total, e + 0.2)  # a little air around the words
        if start is not None and e - start > seconds and end - start >= MIN_CHUNK_SECONDS:
            chunks.append(Chunk(start, end))
            start = None
        if start is None:
            start = s
        while e - start > seconds:  # one breath longer than a window
            chunks.append(Chunk(start, start + seconds))
            start += seconds
        end = e
    if start is not None and end > start:
        chunks.append(Chunk(start, end))
    return chunks


def transcribe_chunk(
    engine: Transcriber,
    audio: Samples,
    chunk: Chunk,
    *,
    names: Iterable[str] = (),
    extra_terms: Iterable[str] = (),
    memory: CorrectionMemory = CorrectionMemory(),
    without: Collection[str] = (),
) -> list[tuple[float, float, str]]:
    """(start, end in seconds from the recording's start, text) for each segment the chunk holds, cleaned by
    the same passes as a voice message."""
    piece = floats(audio, chunk.start, chunk.end)
    glossary: Glossary = DEFAULT_GLOSSARY.extended(tuple(extra_terms), tuple(names)).without(without)
    done = remember(finalize(engine.transcribe(piece), glossary), memory, glossary)
    return [
        (chunk.start + seg.start, chunk.start + seg.end, seg.text.strip()) for seg in done.segments if seg.text.strip()
    ]


def stamp(seconds: float) -> str:
    whole = int(seconds)
    return f"[{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}]"


def paragraphs(segments: Sequence[tuple[float, float, str]], language: str = "zh") -> list[str]:
    """The transcript as paragraphs, each led by its timestamp ("[00:12:30] ...").

    ``segments``: (start, end, text) in order. A paragraph ends at a long pause or length.
    """
    out: list[str] = []
    begun: float | None = None
    last_end = 0.0
    words: list[str] = []
    for start, end, text in segments:
        if begun is not None and (start - last_end >= PARAGRAPH_PAUSE or start - begun >= PARAGRAPH_SECONDS):
            out.append(f"{stamp(begun)} {join_segments(words, language)}")
            begun, words = None, []
        if begun is None:
            begun = start
        words.append(text)
        last_end = end
    if begun is not None and words:
        out.append(f"{stamp(begun)} {join_segments(words, language)}")
    return out
