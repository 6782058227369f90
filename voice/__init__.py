"""Offline voice transcription (Mandarin first): decode, transcribe, clean up.

The worker calls ``transcribe_bytes``; ``zhiban doctor`` calls ``model_status`` and
``ffmpeg_status``. Heavy imports (faster-whisper, jieba, pypinyin, zhconv) happen on first use;
importing this package needs only numpy. ``voice.model`` needs nothing beyond the standard
library, so ``doctor`` can import it even when the ``voice`` extra is not installed.
"""

from voice.decode import (
    AudioCorrupt,
    AudioEmpty,
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    FfmpegMissing,
    decode_audio,
    ffmpeg_status,
)
from voice.engine import Segment, Transcriber, Transcript
from voice.glossary import DEFAULT_GLOSSARY, Glossary
from voice.memory import CorrectionMemory
from voice.model import ensure_model, model_status
from voice.pipeline import VoiceOptions, get_transcriber, transcribe_bytes
from voice.postprocess import postprocess

__all__ = [
    "DEFAULT_GLOSSARY",
    "AudioCorrupt",
    "AudioEmpty",
    "AudioError",
    "AudioTooLarge",
    "AudioTooLong",
    "CorrectionMemory",
    "FfmpegMissing",
    "Glossary",
    "Segment",
    "Transcriber",
    "Transcript",
    "VoiceOptions",
    "decode_audio",
    "ensure_model",
    "ffmpeg_status",
    "get_transcriber",
    "model_status",
    "postprocess",
    "transcribe_bytes",
]
