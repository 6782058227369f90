"""The one call the worker job makes: bytes in, clean transcript out.

Kept free of Matrix and database code so it can be tested and benchmarked on plain files.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from voice.decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_SECONDS, decode_audio
from voice.engine import (
    FasterWhisperTranscriber,
    OpenAIWhisperTranscriber,
    ProgressCallback,
    Transcriber,
    Transcript,
    join_segments,
)
from voice.glossary import DEFAULT_GLOSSARY, Glossary, names_prompt
from voice.memory import CorrectionMemory
from voice.nbest import DEFAULT_WEIGHT, chooser
from voice.postprocess import finalize
from voice.postprocess import warm_up as warm_up_corrections


@dataclass(frozen=True)
class VoiceOptions:
    """What a deployment can configure (the lead maps settings onto this)."""

    engine: str = "faster-whisper"  # or "openai-whisper"
    model_dir: Path | None = None  # cache folder for the assembled base model
    openai_checkpoint: Path | None = None  # required for engine="openai-whisper"
    cpu_threads: int = 2
    compute_type: str = "int8"
    max_bytes: int = DEFAULT_MAX_BYTES
    max_seconds: float = DEFAULT_MAX_SECONDS
    extra_terms: tuple[str, ...] = ()  # config glossary additions
    # Names of the people and places involved as Whisper's prompt. Off: measured, a prompt raises
    # Mandarin CER (the glossary: 0.098 -> 0.120 on sentences it was not written for; ten names:
    # 0.075 -> 0.078, and 0.148 -> 0.280 on the shared set, where long messages lose sentences).
    # Names and glossary drive the correction passes instead.
    use_prompt: bool = False
    # N-best rescoring of Mandarin messages up to one 30-second window (voice.nbest): the lexicon's
    # weight; 0 is off. Measured (bench/voice_nbest.py), pooled CER after every pass: dev set
    # 0.300 -> 0.287, shared set (a check) 0.091 -> 0.074; CPU per 10-second message about the
    # same (no timestamps, one window).
    nbest_weight: float = DEFAULT_WEIGHT


_TRANSCRIBERS: dict[VoiceOptions, Transcriber] = {}
_LOCK = threading.Lock()


def get_transcriber(options: VoiceOptions = VoiceOptions()) -> Transcriber:
    """The process-wide engine for ``options`` (the model is loaded once per worker)."""
    with _LOCK:
        found = _TRANSCRIBERS.get(options)
        if found is None:
            if options.engine == "openai-whisper":
                if options.openai_checkpoint is None:
                    raise ValueError("engine openai-whisper needs openai_checkpoint (a .pt file)")
                if not OpenAIWhisperTranscriber.available():
                    raise RuntimeError("openai-whisper is not installed: pip install openai-whisper")
                found = OpenAIWhisperTranscriber(options.openai_checkpoint)
            elif options.engine == "faster-whisper":
                found = FasterWhisperTranscriber(
                    options.model_dir, compute_type=options.compute_type, cpu_threads=options.cpu_threads
                )
            else:
                raise ValueError(f"unknown voice engine {options.engine!r}")
            _TRANSCRIBERS[options] = found
        return found


def warm_up(options: VoiceOptions = VoiceOptions()) -> None:
    """Everything a first message would otherwise wait for: the weights and one encoder run, then
    the correction passes' lexicon and numeral table (measured: ~10 s in all on two cores)."""
    engine = get_transcriber(options)
    if isinstance(engine, FasterWhisperTranscriber):
        engine.warm_up()
    warm_up_corrections()


def transcribe_bytes(
    data: bytes,
    *,
    options: VoiceOptions = VoiceOptions(),
    names: Iterable[str] = (),
    progress_cb: ProgressCallback | None = None,
    transcriber: Transcriber | None = None,
    memory: CorrectionMemory = CorrectionMemory(),
    without: Collection[str] = (),
) -> Transcript:
    """Decode, transcribe and clean one voice message.

    ``names``: people and places relevant to this message (roster, incident location); they join
    the glossary of the correction passes (and are Whisper's prompt if ``use_prompt`` is on).
    ``memory``: the office's learnt corrections, applied last (``voice.memory``), never to a name
    or glossary term; ``without``: glossary terms the office removed. Raises
    ``voice.decode.AudioError`` subclasses for refusals the user should see.
    """
    audio = decode_audio(data, max_bytes=options.max_bytes, max_seconds=options.max_seconds)
    engine = transcriber or get_transcriber(options)
    names = tuple(names)
    glossary: Glossary = DEFAULT_GLOSSARY.extended(options.extra_terms, names).without(without)
    prompt = {"zh": names_prompt(names)} if options.use_prompt and names else None
    if options.nbest_weight > 0 and isinstance(engine, FasterWhisperTranscriber) and prompt is None:
        choose = chooser(glossary, options.nbest_weight)
        raw = engine.transcribe(audio, progress_cb=progress_cb, choose=choose)
    else:
        raw = engine.transcribe(audio, prompt=prompt, progress_cb=progress_cb)
    return remember(finalize(raw, glossary), memory, glossary)


def remember(transcript: Transcript, memory: CorrectionMemory, glossary: Glossary) -> Transcript:
    """The correction memory over each segment of a finished transcript (Mandarin only)."""
    if not memory or transcript.language != "zh":
        return transcript
    segments = tuple(replace(s, text=memory.apply(s.text, glossary.terms)) for s in transcript.segments)
    return replace(transcript, text=join_segments((s.text for s in segments), transcript.language), segments=segments)
