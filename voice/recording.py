"""Whole recordings (a meeting, a phone call): cut into chunks, each transcribed on its own.

Kept free of Matrix and database code, like voice.pipeline: the worker job stores each chunk's
text as it completes (commands/voice/recording_jobs.py), so the plan must be the same every
time the same audio is planned (a resumed run finds the chunks where the first run put them).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from voice.decode import SAMPLE_RATE, decode_audio
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


@dataclass(frozen=True)
class Chunk:
    start: float
    end: float


def decode_recording(data: bytes, *, max_bytes: int, max_seconds: float, timeout: float = 900.0) -> np.ndarray:
    """The file (audio, or a video's first audio track) as 16 kHz mono samples."""
    return decode_audio(data, max_bytes=max_bytes, max_seconds=max_seconds, timeout=timeout)


def _speech(audio: np.ndarray) -> list[tuple[float, float]]:
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    found = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500))
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in found]


def plan_chunks(audio: np.ndarray, *, seconds: float = CHUNK_SECONDS) -> list[Chunk]:
    """Chunks of at most ``seconds`` that begin and end in pauses the VAD found.

    Silence between speech is left out (no chunk for a long pause); a stretch of speech longer
    than ``seconds`` is cut where it must. Deterministic for the same samples.
    """
    total = float(audio.shape[0]) / SAMPLE_RATE
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
    audio: np.ndarray,
    chunk: Chunk,
    *,
    names: Iterable[str] = (),
    extra_terms: Iterable[str] = (),
    memory: CorrectionMemory = CorrectionMemory(),
    without: Collection[str] = (),
) -> list[tuple[float, float, str]]:
    """(start, end in seconds from the recording's start, text) for each segment the chunk holds, cleaned by
    the same passes as a voice message."""
    piece = audio[int(chunk.start * SAMPLE_RATE) : int(chunk.end * SAMPLE_RATE)]
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
