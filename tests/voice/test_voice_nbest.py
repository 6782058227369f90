"""N-best rescoring: the real model's beam finalists, and the choice among them.

The model is assembled from the weight packages (tests/voice/conftest.py): never skipped.
Clips come from the development set (bench/voice_dev), whose sentences were written for Zhiban.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voice.decode import SAMPLE_RATE, decode_audio
from voice.engine import FasterWhisperTranscriber
from voice.glossary import DEFAULT_GLOSSARY
from voice.nbest import chooser
from voice.pipeline import VoiceOptions, transcribe_bytes

DEV = Path(__file__).resolve().parents[2] / "bench" / "voice_dev"


def test_the_beam_returns_its_finalists_and_the_chosen_one_is_kept(transcriber: FasterWhisperTranscriber) -> None:
    audio = decode_audio((DEV / "dev01.ogg").read_bytes())
    seen: list[tuple[str, float]] = []

    def last(finalists: Sequence[tuple[str, float]]) -> int:
        seen.extend(finalists)
        return len(finalists) - 1

    transcript = transcriber.transcribe(audio, choose=last)
    assert len(seen) >= 2 and len({text for text, _ in seen}) >= 2
    assert transcript.language == "zh" and len(transcript.segments) == 1
    assert transcript.text == seen[-1][0]


def test_english_and_long_messages_decode_as_before(transcriber: FasterWhisperTranscriber) -> None:
    called: list[int] = []

    def never(finalists: Sequence[tuple[str, float]]) -> int:
        called.append(len(finalists))
        return 0

    silence = np.zeros(SAMPLE_RATE, dtype=np.float32)
    assert transcriber.transcribe(silence, choose=never).text == ""
    # More than one window of speech: the ordinary decoder, window after window.
    clips = [decode_audio((DEV / f"dev{n:02d}.ogg").read_bytes()) for n in range(1, 13)]
    long = np.concatenate(clips)
    assert len(long) > 31 * SAMPLE_RATE
    transcript = transcriber.transcribe(long, choose=never)
    assert called == [] and len(transcript.segments) >= 2


def test_the_lexicon_prefers_a_finalist_that_reads_as_words() -> None:
    choose = chooser(DEFAULT_GLOSSARY, 0.2)
    # Equal model scores: the real office words win over a sound-alike that is no word.
    assert choose([("后天一早去五楼会议是", -5.0), ("后天一早去五楼会议室", -5.0)]) == 1
    # A finalist the passes put right anyway is as good as the one heard right: the first stays.
    assert choose([("请各单位做好防训准备", -5.0), ("请各单位做好防汛准备", -5.0)]) == 0
    # Without the lexicon, Whisper's own first choice stays.
    assert chooser(DEFAULT_GLOSSARY, 0.0)([("甲", -1.0), ("乙", -3.0)]) == 0


def test_the_pipeline_rescores_when_asked(transcriber: FasterWhisperTranscriber) -> None:
    data = (DEV / "dev02.ogg").read_bytes()
    on = transcribe_bytes(data, options=VoiceOptions(nbest_weight=0.2), transcriber=transcriber)
    assert on.language == "zh" and on.text and len(on.segments) == 1
