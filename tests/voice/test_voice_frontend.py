"""The audio front end (voice.frontend): quiet speech is brought up, nothing else is touched."""

from __future__ import annotations

import numpy as np

from voice.frontend import DEFAULT_FRONT_END, highpass, speech_level_dbfs


def _speech_like(level_dbfs: float, seconds: float = 2.0) -> np.ndarray:
    """A 300 Hz tone in bursts (speech and pauses) whose bursts sit at ``level_dbfs``."""
    t = np.arange(int(16_000 * seconds)) / 16_000
    bursts = (np.sin(2 * np.pi * 2 * t) > 0).astype(np.float32)
    tone = np.sin(2 * np.pi * 300 * t).astype(np.float32) * bursts
    return (tone * np.float32(10 ** (level_dbfs / 20) * np.sqrt(2))).astype(np.float32)


def test_a_quiet_message_is_brought_to_the_target_level() -> None:
    target = DEFAULT_FRONT_END.target_dbfs
    assert target is not None
    assert abs(speech_level_dbfs(DEFAULT_FRONT_END(_speech_like(-44.0))) - target) < 0.5


def test_a_message_at_a_normal_level_passes_untouched() -> None:
    for level in (-24.0, -16.0, -6.0):
        audio = _speech_like(level)
        assert DEFAULT_FRONT_END(audio) is audio


def test_silence_and_line_noise_are_not_blown_up() -> None:
    silence = np.zeros(32_000, dtype=np.float32)
    assert not DEFAULT_FRONT_END(silence).any()
    # Line noise alone, at the level of a quiet line's floor and of a noisy one's: a listener (and
    # the model) hears it no louder than it came in.
    for level in (-80.0, -60.0, -45.0):
        hiss = _hiss(level)
        assert speech_level_dbfs(DEFAULT_FRONT_END(hiss)) < speech_level_dbfs(hiss) + 3.0


def test_hiss_after_a_digitally_silent_start_is_not_blown_up() -> None:
    # A line that opens with 250 ms of zeros: those frames are no floor for the hiss that follows.
    hiss = _hiss(-60.0)
    hiss[:4_000] = 0.0
    assert speech_level_dbfs(DEFAULT_FRONT_END(hiss)) < speech_level_dbfs(hiss) + 3.0


def test_a_short_quiet_reply_with_no_pause_is_brought_up() -> None:
    # Two syllables, 0.6 s, no pause between them (a short "收到"): no floor to measure, still speech.
    target = DEFAULT_FRONT_END.target_dbfs
    assert target is not None
    t = np.arange(int(16_000 * 0.6)) / 16_000
    syllables = 0.6 + 0.4 * np.abs(np.sin(np.pi * t / 0.3))
    reply = (np.sin(2 * np.pi * 220 * t) * syllables * 10 ** (-44.0 / 20)).astype(np.float32)
    assert abs(speech_level_dbfs(DEFAULT_FRONT_END(reply)) - target) < 1.0
    # A short burst of steady hiss is no reply.
    short_hiss = _hiss(-60.0, seconds=0.6)
    assert speech_level_dbfs(DEFAULT_FRONT_END(short_hiss)) < speech_level_dbfs(short_hiss) + 3.0


def test_quiet_speech_on_a_noisy_line_is_still_brought_up() -> None:
    target = DEFAULT_FRONT_END.target_dbfs
    assert target is not None
    audio = _speech_like(-44.0) + _hiss(-70.0)
    assert abs(speech_level_dbfs(DEFAULT_FRONT_END(audio)) - target) < 1.0


def _hiss(level_dbfs: float, seconds: float = 2.0) -> np.ndarray:
    """Steady white noise at ``level_dbfs`` RMS."""
    noise = np.random.default_rng(0).standard_normal(int(16_000 * seconds))
    return (noise * 10 ** (level_dbfs / 20)).astype(np.float32)


def test_no_peak_passes_full_scale() -> None:
    spiky = _speech_like(-40.0)
    spiky[100] = 0.5  # one click far above the speech
    assert float(np.max(np.abs(DEFAULT_FRONT_END(spiky)))) <= 1.0


def test_highpass_removes_rumble_and_keeps_the_voice() -> None:
    t = np.arange(16_000) / 16_000
    hum = np.sin(2 * np.pi * 50 * t).astype(np.float32)
    voice = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    out = highpass(hum + voice, 100.0)
    assert float(np.sqrt(np.mean((out - voice) ** 2))) < 0.01
