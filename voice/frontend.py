"""The audio front end: what a message's samples go through before the VAD and Whisper.

Phone calls and handsets arrive band-limited (300-3400 Hz), at any level (a soft voice 24 dB
down, a shouting caller clipped), often with hum and rumble below the voice. Whisper's features
are log-mel with a fixed offset, so a quiet message shifts every feature; and the VAD (Silero)
misses soft onsets. The front end therefore:

- removes what lies below the voice (``highpass_hz``: rumble, hum, a DC offset);
- brings quiet speech, not the pauses, to one level (``target_dbfs``), with a cap on the gain;
  a message whose loud frames do not stand out of its floor (line noise, no speech) is left as it
  came, so that it is not blown up into noise the model would "transcribe".

Both are plain FFT/numpy operations: about a millisecond for a 10-second message.
Values are chosen by measurement (``bench/voice_english.py``; see ``DEFAULT_FRONT_END``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voice.decode import SAMPLE_RATE

Audio = npt.NDArray[np.float32]
#: 20 ms frames: the unit in which speech is told from pauses for the level.
_FRAME = SAMPLE_RATE // 50


@dataclass(frozen=True)
class VadSettings:
    """faster-whisper's VadOptions that we set (the rest keep its defaults)."""

    threshold: float = 0.5
    min_speech_duration_ms: int = 0
    min_silence_duration_ms: int = 2000
    speech_pad_ms: int = 400


@dataclass(frozen=True)
class FrontEnd:
    """``highpass_hz`` 0 and ``target_dbfs`` None: the samples pass through untouched."""

    highpass_hz: float = 0.0
    #: The level of the loudest half of the 20 ms frames (the speech), in dB below full scale.
    target_dbfs: float | None = None
    #: Never amplify more than this: below it lies silence or line noise, not a soft voice.
    max_gain_db: float = 30.0
    #: Only speech quieter than this is brought to ``target_dbfs``; None: every message is. Measured,
    #: levelling messages that are already at a normal level gains nothing and moves a few words
    #: either way (clean 0.051 -> 0.058, clipped 0.069 -> 0.080 WER), so only quiet ones are touched.
    quiet_below_dbfs: float | None = None
    #: Only a message whose loud frames stand this far above its quietest (the line's floor) is
    #: raised: speech comes in syllables and pauses, steady hiss or hum does not, and raising a
    #: message of line noise alone would hand the model noise to "transcribe". The 29 quiet English
    #: dev clips stand 28 dB or more above their floor, steady hiss about 1 dB: no dev figure moves.
    speech_over_floor_db: float = 10.0

    @property
    def active(self) -> bool:
        return self.highpass_hz > 0 or self.target_dbfs is not None

    def __call__(self, audio: Audio) -> Audio:
        if not self.active or audio.size < _FRAME:
            return audio
        out = np.asarray(audio, dtype=np.float32)
        if self.highpass_hz > 0:
            out = highpass(out, self.highpass_hz)
        if self.target_dbfs is not None:
            level = speech_level_dbfs(out)
            quiet = self.quiet_below_dbfs is None or level < self.quiet_below_dbfs
            speech = sounds_like_speech(out, self.speech_over_floor_db)
            out = normalise_level(out, self.target_dbfs, self.max_gain_db) if quiet and speech else out
        return out


def highpass(audio: Audio, cutoff_hz: float) -> Audio:
    """Frequencies below ``cutoff_hz`` removed, with a half-octave cosine ramp (no ringing edge)."""
    spectrum = np.fft.rfft(audio)
    freqs = np.fft.rfftfreq(audio.size, 1.0 / SAMPLE_RATE)
    low = cutoff_hz / np.sqrt(2.0)
    ramp = np.clip((np.log2(np.maximum(freqs, 1e-9)) - np.log2(low)) / 0.5, 0.0, 1.0)
    gain = 0.5 - 0.5 * np.cos(np.pi * ramp)
    return np.fft.irfft(spectrum * gain, n=audio.size).astype(np.float32)


def _frames(audio: Audio) -> npt.NDArray[np.float64]:
    return audio[: audio.size // _FRAME * _FRAME].reshape(-1, _FRAME).astype(np.float64)


def speech_level_dbfs(audio: Audio) -> float:
    """RMS of the loudest half of the 20 ms frames, in dBFS (-inf for digital silence)."""
    energy = np.sort((_frames(audio) ** 2).mean(axis=1))[::-1]
    rms = float(np.sqrt(energy[: max(1, energy.size // 2)].mean()))
    return 20.0 * float(np.log10(rms)) if rms > 0 else float("-inf")


#: A frame below this mean energy (-100 dBFS) is digital silence (a gated or zero-padded line), not
#: the line's floor: measured among the floor, it would make any hiss stand out of it "infinitely".
_DIGITAL_SILENCE = 1e-10
#: A clip this short (1.5 s of sound) may hold no pause to measure a floor on: a word or two ("收到").
_SHORT_FRAMES = 75
#: Spread between the loudest and quietest frames of a short clip that tells syllables from steady
#: hiss (20 ms frames of white noise vary by about 1 dB).
_SHORT_SPREAD_DB = 3.0


def sounds_like_speech(audio: Audio, over_floor_db: float) -> bool:
    """Whether ``audio`` holds speech worth raising: its loud frames stand ``over_floor_db`` above
    the quietest of its frames that are not digital silence; or its sound comes in separate bursts
    (pauses a line gated to digital silence); or, too short to hold a pause, it is not steady."""
    energy = (_frames(audio) ** 2).mean(axis=1)
    sound = energy > _DIGITAL_SILENCE
    heard = energy[sound]
    if heard.size == 0:
        return False
    level = 10.0 * float(np.log10(np.sort(heard)[::-1][: max(1, heard.size // 2)].mean()))
    if level - 10.0 * float(np.log10(np.percentile(heard, 10))) >= over_floor_db:
        return True
    if int(np.count_nonzero(np.diff(sound.astype(np.int8)) == 1)) + int(sound[0]) >= 2:
        return True  # two bursts of sound or more, digital silence between them
    spread = 10.0 * float(np.log10(heard.max() / heard.min()))
    return heard.size <= _SHORT_FRAMES and spread >= _SHORT_SPREAD_DB


def normalise_level(audio: Audio, target_dbfs: float, max_gain_db: float) -> Audio:
    """``audio`` scaled so its speech sits at ``target_dbfs``; the gain is capped at
    ``max_gain_db`` and kept low enough that no peak passes full scale (the VAD and the
    encoder expect [-1, 1])."""
    level = speech_level_dbfs(audio)
    if not np.isfinite(level):
        return audio
    gain_db = min(target_dbfs - level, max_gain_db)
    peak = float(np.max(np.abs(audio)))
    if peak > 0:
        gain_db = min(gain_db, -20.0 * float(np.log10(peak)) - 0.1)
    return (audio * np.float32(10 ** (gain_db / 20.0))).astype(np.float32)


#: What production uses, measured on the English dev set (bench/voice_english.py, 29 real
#: recordings x 5 channels, pooled WER). Bringing speech up to -20 dBFS on a line 24 dB down
#: (speech at -38..-48 dBFS): 0.080 -> 0.047, words the VAD and the model lost at that level. Every
#: message of the dev sets at a normal level (English and Mandarin alike: -24..-5 dBFS) is left
#: untouched, so Mandarin CER cannot change. The high-pass stays off: these recordings carry no
#: rumble to remove, so the set cannot show what it is worth. Band-limiting is not applied: a
#: phone line arrives band-limited already, and cutting wideband speech to the phone band would
#: only remove what the model hears.
DEFAULT_FRONT_END = FrontEnd(target_dbfs=-20.0, quiet_below_dbfs=-30.0)
#: faster-whisper's own VAD defaults. A lower threshold (0.35) gained nothing measurable in English
#: and broke 8 characters of noisy Mandarin dev clips (bench/voice_dev/en/README.md).
DEFAULT_VAD = VadSettings()
