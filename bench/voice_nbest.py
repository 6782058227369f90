"""N-best rescoring as production runs it, against the production pipeline without it.

    .venv/bin/python -m bench.voice_nbest [--dev-dir bench/voice_dev] [--shared-dir ../shared/voice]
                                          [--transcripts PATH] [--limit N]

For each Mandarin clip of the development set and of the shared set (a check, never tuned on):
  baseline   the production pipeline (faster-whisper base, int8, beam 5, VAD; then ``finalize``)
  nbest λ    the beam's finalists of the same decoder (``FasterWhisperTranscriber._finalists``:
             one 30-second window, no timestamps), the one with the best Whisper log-probability
             + λ x lexicon log-probability kept (``voice.nbest.chooser``), then ``finalize``
Printed: pooled CER per set, the characters each λ fixed and broke against the baseline, then
wall and CPU seconds and the real-time factor of a ~10-second message both ways, and RSS.
``--transcripts`` reads the dev set's baseline from ``bench.voice_memory --transcripts`` (the
same pipeline), to spare a decode of every clip.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.voice_memory import _saved
from bench.voice_quality import HERE, _forget_encoder, _rss_mb, load_refs, ten_second_messages
from voice.decode import SAMPLE_RATE, decode_audio
from voice.engine import FasterWhisperTranscriber, Transcript
from voice.glossary import DEFAULT_GLOSSARY
from voice.nbest import DEFAULT_WEIGHT, chooser
from voice.postprocess import finalize
from voice.scoring import Alignment, align, fixed_and_broke, pooled_rate

WEIGHTS = (0.0, 0.1, 0.2, 0.5, 1.0)


def finalists(engine: FasterWhisperTranscriber, audio: np.ndarray) -> tuple[Transcript, list[tuple[str, float]]]:
    """The transcript of Whisper's first finalist and all the finalists (none: a long message)."""
    found: list[tuple[str, float]] = []

    def record(candidates: Sequence[tuple[str, float]]) -> int:
        found.extend(candidates)
        return 0

    _forget_encoder(engine)
    return engine.transcribe(audio, choose=record), found


def pick(top: Transcript, found: list[tuple[str, float]], weight: float) -> Transcript:
    if not found:
        return top
    text = found[chooser(DEFAULT_GLOSSARY, weight)(found)][0]
    return replace(top, text=text, segments=tuple(replace(s, text=text) for s in top.segments))


def run_set(
    title: str, rows: list[tuple[Path, str, str]], engine: FasterWhisperTranscriber, baseline: list[Transcript] | None
) -> None:
    base: list[Alignment] = []
    by_weight: dict[float, list[Alignment]] = {w: [] for w in WEIGHTS}
    for i, (path, _lang, ref) in enumerate(rows):
        audio = decode_audio(path.read_bytes())
        if baseline is None:
            _forget_encoder(engine)
            final = finalize(engine.transcribe(audio), DEFAULT_GLOSSARY)
        else:
            final = baseline[i]
        base.append(align(ref, final.text, "zh"))
        top, found = finalists(engine, audio)
        for weight in WEIGHTS:
            by_weight[weight].append(align(ref, finalize(pick(top, found, weight), DEFAULT_GLOSSARY).text, "zh"))
    print(f"\n{title}: {len(rows)} Mandarin clips, pooled CER")
    print(f"  {'baseline (production, no n-best)':<36}{pooled_rate(base):.4f}")
    for weight, aligned in by_weight.items():
        fixed = broke = 0
        for b, a in zip(base, aligned, strict=True):
            f, k = fixed_and_broke(b, a)
            fixed, broke = fixed + f, broke + k
        label = f"n-best, lambda {weight}" + (" (production)" if weight == DEFAULT_WEIGHT else "")
        print(f"  {label:<36}{pooled_rate(aligned):.4f}   fixed {fixed:>4}  broke {broke:>4}")


def cost(engine: FasterWhisperTranscriber, messages: list[np.ndarray]) -> None:
    choose = chooser(DEFAULT_GLOSSARY, DEFAULT_WEIGHT)
    for label, kwargs in (("baseline", {}), (f"n-best lambda {DEFAULT_WEIGHT}", {"choose": choose})):
        walls, cpus = [], []
        for audio in messages:
            _forget_encoder(engine)
            wall, cpu = time.perf_counter(), time.process_time()
            finalize(engine.transcribe(audio, **kwargs), DEFAULT_GLOSSARY)  # type: ignore[arg-type]
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        seconds = statistics.mean(len(a) / SAMPLE_RATE for a in messages)
        print(
            f"~10 s message, {label}: wall p50 {statistics.median(walls):.2f} s (RTF {statistics.median(walls) / seconds:.2f}), "
            f"max {max(walls):.2f} s, CPU {statistics.mean(cpus):.2f} s (target ≤ 3 s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev-dir", type=Path, default=HERE / "voice_dev")
    parser.add_argument("--shared-dir", type=Path, default=HERE.parents[1] / "shared" / "voice")
    parser.add_argument("--transcripts", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips of each set (a quick look)")
    args = parser.parse_args()
    engine = FasterWhisperTranscriber()
    engine.warm_up()
    dev = [row for row in load_refs(args.dev_dir) if row[1] == "zh"]
    baseline = _saved(args.transcripts) if args.transcripts is not None and args.transcripts.is_file() else None
    if args.limit:
        dev, baseline = dev[: args.limit], baseline[: args.limit] if baseline else None
    run_set("dev (bench/voice_dev)", dev, engine, baseline)
    shared = [row for row in load_refs(args.shared_dir) if row[1] == "zh"]
    if shared:
        run_set("shared (check only, never tuned on)", shared[: args.limit] if args.limit else shared, engine, None)
    cost(engine, ten_second_messages(dev))
    print(f"worker RSS (model + passes, after the run): {_rss_mb():.0f} MB (target < 700 MB)")


if __name__ == "__main__":
    main()
