"""decode_audio on the shared Ogg/Opus set, and its refusals."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np
import pytest

from voice.decode import (
    SAMPLE_RATE,
    AudioCorrupt,
    AudioEmpty,
    AudioTooLarge,
    AudioTooLong,
    decode_audio,
    duration_of,
    ffmpeg_status,
)

# Durations of the shared clips as ffmpeg reports them (opus pre-skip trimmed).
EXPECTED_SECONDS = {"zh_tts_flood": 4.3, "zh_tts_long": 33.875, "en_esp_meeting": 3.68, "zh_ae_nihao_shijie": 1.41}


def _wav(seconds: float, rate: int = 44_100, channels: int = 2) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    tone = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype(np.int16)
    frames = np.repeat(tone[:, None], channels, axis=1).tobytes()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


@pytest.mark.parametrize("name", sorted(EXPECTED_SECONDS))
def test_shared_ogg_decodes_to_16k_mono_float(voice_dir: Path, name: str) -> None:
    audio = decode_audio((voice_dir / f"{name}.ogg").read_bytes())
    assert audio.dtype == np.float32
    assert audio.ndim == 1  # mono
    assert duration_of(audio) == pytest.approx(EXPECTED_SECONDS[name], abs=0.05)
    assert 0.05 < float(np.abs(audio).max()) <= 1.0  # real signal, normalised range


def test_stereo_44k_wav_is_resampled_and_downmixed() -> None:
    audio = decode_audio(_wav(2.0))
    assert audio.shape == (2 * SAMPLE_RATE,)
    # The 440 Hz tone survives resampling: its dominant frequency is still 440 Hz.
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.fft.rfftfreq(audio.size, 1 / SAMPLE_RATE)[spectrum.argmax()] == pytest.approx(440, abs=2)


def test_corrupt_bytes_raise_audio_corrupt() -> None:
    with pytest.raises(AudioCorrupt) as info:
        decode_audio(b"OggS" + bytes(range(256)) * 20)
    assert "无法识别" in info.value.user_message("zh")
    assert "could not be read" in info.value.user_message("en")


def test_truncated_header_is_corrupt(voice_dir: Path) -> None:
    with pytest.raises(AudioCorrupt):
        decode_audio((voice_dir / "zh_tts_flood.ogg").read_bytes()[:40])


def test_zero_length_is_empty() -> None:
    with pytest.raises(AudioEmpty):
        decode_audio(b"")


def test_oversize_is_refused_before_decoding(voice_dir: Path) -> None:
    data = (voice_dir / "zh_tts_long.ogg").read_bytes()
    with pytest.raises(AudioTooLarge) as info:
        decode_audio(data, max_bytes=len(data) - 1)
    assert info.value.size == len(data)
    assert "上限" in info.value.user_message("zh")


def test_overlong_is_refused(voice_dir: Path) -> None:
    with pytest.raises(AudioTooLong) as info:
        decode_audio((voice_dir / "zh_tts_long.ogg").read_bytes(), max_seconds=30)
    assert info.value.user_message("zh") == "语音太长，上限为 30 秒。"
    assert "10 min" in AudioTooLong(600).user_message("en")


def test_ffmpeg_status_reports_a_working_binary() -> None:
    ok, message = ffmpeg_status()
    assert ok, message
    assert "ffmpeg" in message
