"""Correction memory benchmark: what people's corrections teach, on speech the memory never saw.

    .venv/bin/python -m bench.voice_memory [--dev-dir bench/voice_dev] [--threads 2] [--limit N]
                                           [--write-memory tests/voice/data/dev_memory.tsv]

The development set's Mandarin clips are transcribed once by the production pipeline (the
engine's default decoding, the correction passes). They are split in two halves by position
(even / odd). The memory learns from one half as if every transcript there had been corrected
to its reference (each correction counts one confirmation, ``voice.memory.learn``), then is
applied to the other half; and the other way round. Printed for each fold and both together:
the pooled CER of the held-out half before and after the memory, and the characters it fixed
and broke, at one confirmation (an admin's correction, or a threshold of 1) and at the default
two. Also: how many sentences of the do-no-harm suite the memory changed (should be none).

``--transcripts PATH`` keeps the transcripts and reads them back on the next run (the model's
part takes minutes; the memory's, seconds). ``--write-memory`` writes the pairs learnt from the whole set (one confirmation) as TSV, for the
do-no-harm test (tests/voice/test_voice_memory.py).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections import Counter
from pathlib import Path

from bench.voice_quality import load_refs
from voice.decode import decode_audio
from voice.engine import FasterWhisperTranscriber, Segment, Transcript
from voice.glossary import DEFAULT_GLOSSARY
from voice.memory import CorrectionMemory, Pair, learn
from voice.pipeline import remember
from voice.postprocess import finalize
from voice.scoring import align, fixed_and_broke, pooled_rate

HERE = Path(__file__).resolve().parent
SUITE = HERE.parent / "tests/voice/data/clean_office_sentences.txt"
THRESHOLDS = (1, 2)


def transcribe_all(rows: list[tuple[Path, str, str]], engine: FasterWhisperTranscriber) -> list[Transcript]:
    return [finalize(engine.transcribe(decode_audio(path.read_bytes())), DEFAULT_GLOSSARY) for path, _, _ in rows]


def _saved(path: Path) -> list[Transcript]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        Transcript(r["text"], r["language"], r["duration"], tuple(Segment(**s) for s in r["segments"]), r["engine"])
        for r in rows
    ]


def _save(path: Path, transcripts: list[Transcript]) -> None:
    rows = [
        {
            "text": t.text,
            "language": t.language,
            "duration": t.duration,
            "engine": t.engine,
            "segments": [dataclasses.asdict(s) for s in t.segments],
        }
        for t in transcripts
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def learnt(pairs: list[tuple[Transcript, str]]) -> Counter[Pair]:
    counts: Counter[Pair] = Counter()
    for transcript, reference in pairs:
        counts.update(learn(transcript.text, reference, DEFAULT_GLOSSARY.terms))
    return counts


def memory_of(counts: Counter[Pair], threshold: int) -> CorrectionMemory:
    """As the worker builds it: per misheard span, the most confirmed correction in force."""
    best: dict[str, tuple[int, str]] = {}
    for pair, n in counts.items():
        if n >= threshold and n > best.get(pair.heard, (0, ""))[0]:
            best[pair.heard] = (n, pair.right)
    return CorrectionMemory.of({heard: right for heard, (_, right) in best.items()})


def score(held: list[tuple[Transcript, str]], memory: CorrectionMemory) -> tuple[float, float, int, int]:
    before, after = [], []
    for transcript, reference in held:
        before.append(align(reference, transcript.text, "zh"))
        after.append(align(reference, remember(transcript, memory, DEFAULT_GLOSSARY).text, "zh"))
    fixed = broke = 0
    for b, a in zip(before, after, strict=True):
        f, k = fixed_and_broke(b, a)
        fixed, broke = fixed + f, broke + k
    return pooled_rate(before), pooled_rate(after), fixed, broke


def suite_changes(memory: CorrectionMemory) -> int:
    lines = [s for s in SUITE.read_text(encoding="utf-8").splitlines() if s.strip() and not s.startswith("#")]
    return sum(memory.apply(s, DEFAULT_GLOSSARY.terms) != s for s in lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev-dir", type=Path, default=HERE / "voice_dev")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (a quick look)")
    parser.add_argument("--write-memory", type=Path, default=None)
    parser.add_argument(
        "--transcripts", type=Path, default=None, help="keep the transcripts here and read them back next time"
    )
    args = parser.parse_args()

    rows = [row for row in load_refs(args.dev_dir) if row[1] == "zh"]
    rows = rows[: args.limit] if args.limit else rows
    if args.transcripts is not None and args.transcripts.is_file():
        transcripts = _saved(args.transcripts)[: len(rows)]
        print(f"{len(rows)} dev clips: the production pipeline's transcripts read from {args.transcripts}")
    else:
        engine = FasterWhisperTranscriber(cpu_threads=args.threads)
        began = time.perf_counter()
        transcripts = transcribe_all(rows, engine)
        print(f"{len(rows)} dev clips transcribed by the production pipeline in {time.perf_counter() - began:.0f} s")
        if args.transcripts is not None:
            _save(args.transcripts, transcripts)
    pairs = [(t, ref) for t, (_, _, ref) in zip(transcripts, rows, strict=True)]
    halves = {"even": pairs[0::2], "odd": pairs[1::2]}
    folds = (("even", "odd"), ("odd", "even"))

    print("\nheld-out half's pooled CER with the memory learnt from the other half (corrections = references)")
    print(
        f"{'learnt from -> applied to':<28}{'confirmations':>14}{'pairs':>7}{'before':>9}{'after':>9}{'fixed':>7}{'broke':>7}"
    )
    totals: dict[int, list[tuple[float, float, int, int, int]]] = {t: [] for t in THRESHOLDS}
    for teach, held_out in folds:
        counts = learnt(halves[teach])
        for threshold in THRESHOLDS:
            memory = memory_of(counts, threshold)
            before, after, fixed, broke = score(halves[held_out], memory)
            chars = sum(align(ref, t.text, "zh").reference_length for t, ref in halves[held_out])
            totals[threshold].append((before * chars, after * chars, fixed, broke, chars))
            print(
                f"{teach + ' -> ' + held_out:<28}{threshold:>14}{len(memory.pairs):>7}"
                f"{before:>9.3f}{after:>9.3f}{fixed:>7}{broke:>7}"
            )
    for threshold, parts in totals.items():
        chars = sum(p[4] for p in parts)
        print(
            f"{'both folds pooled':<28}{threshold:>14}{'':>7}{sum(p[0] for p in parts) / chars:>9.3f}"
            f"{sum(p[1] for p in parts) / chars:>9.3f}{sum(p[2] for p in parts):>7}{sum(p[3] for p in parts):>7}"
        )

    whole = learnt(pairs)
    for threshold in THRESHOLDS:
        memory = memory_of(whole, threshold)
        print(
            f"memory from the whole set, {threshold} confirmation(s): {len(memory.pairs)} pairs; "
            f"do-no-harm suite sentences changed: {suite_changes(memory)} (target 0)"
        )
    if args.write_memory is not None:
        lines = [f"{p.heard}\t{p.right}\t{n}" for p, n in sorted(whole.items(), key=lambda i: (i[0].heard, i[0].right))]
        args.write_memory.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(lines)} pairs to {args.write_memory}")


if __name__ == "__main__":
    main()
