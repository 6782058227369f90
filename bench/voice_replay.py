"""The Mandarin production path replayed from saved beam finalists: CER and fixed/broke per pass.

    .venv/bin/python -m bench.voice_replay save PATH [--dev-dir bench/voice_dev] [--shared-dir ../shared/voice]
    .venv/bin/python -m bench.voice_replay score PATH [--memory]

``save`` decodes every Mandarin clip of the development set and of the shared set (a check, never
tuned on) once, as production does (faster-whisper base, int8, beam 5, VAD), keeping the beam's
finalists of each message (``FasterWhisperTranscriber._finalists``) and its segments. ``score``
then replays the rest of the production path in seconds, with the code as it is now: the n-best
choice (``voice.nbest``), then the passes one by one (Simplified, glossary, rescoring), then
``finalize``; pooled CER (all characters together) per step, and the characters each step fixed
and broke. ``--memory`` adds the correction-memory replay of bench.voice_memory on the dev set:
pairs learnt from one half (one confirmation), applied to the other half. A change to the
passes is measured in seconds, side by side with the saved decoding it is replayed on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench.voice_quality import HERE, load_refs
from voice.engine import Segment, Transcript, join_segments
from voice.glossary import DEFAULT_GLOSSARY
from voice.memory import CorrectionMemory, Pair, learn
from voice.nbest import chooser
from voice.postprocess import finalize, postprocess
from voice.scoring import Alignment, align, fixed_and_broke, pooled_rate

STEPS: dict[str, dict[str, bool] | None] = {
    "raw": None,
    "+simplified": {"homophones": False, "lexicon": False},
    "+glossary": {"lexicon": False},
    "+rescore": {},
}


def save(path: Path, sets: dict[str, Path]) -> None:
    from voice.decode import decode_audio
    from voice.engine import FasterWhisperTranscriber

    engine = FasterWhisperTranscriber()
    rows = []
    for name, folder in sets.items():
        for clip, lang, reference in load_refs(folder):
            if lang != "zh":
                continue
            found: list[tuple[str, float]] = []

            def keep(candidates: Sequence[tuple[str, float]], found: list[tuple[str, float]] = found) -> int:
                found.extend(candidates)
                return 0

            heard = engine.transcribe(decode_audio(clip.read_bytes()), choose=keep)
            rows.append(
                {
                    "set": name,
                    "name": clip.stem,
                    "ref": reference,
                    "duration": heard.duration,
                    "segments": [dataclasses.asdict(s) for s in heard.segments],
                    "finalists": found,
                }
            )
            print(name, clip.stem, heard.text, flush=True)
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def _chosen(row: dict[str, object]) -> Transcript:
    """The message as production transcribes it before its passes: the n-best choice."""
    raw_segments = row["segments"]
    finalists = row["finalists"]
    assert isinstance(raw_segments, list) and isinstance(finalists, list)
    segments = tuple(Segment(**s) for s in raw_segments)
    if finalists:
        text = finalists[chooser(DEFAULT_GLOSSARY)([(str(t), float(p)) for t, p in finalists])][0]
        segments = tuple(dataclasses.replace(s, text=str(text)) for s in segments)
    duration = row["duration"]
    assert isinstance(duration, float | int)
    return Transcript(join_segments((s.text for s in segments), "zh"), "zh", float(duration), segments)


def _moved(before: list[Alignment], after: list[Alignment]) -> tuple[int, int]:
    """Characters fixed and broken in all, from ``before`` to ``after``, clip by clip."""
    counts = [fixed_and_broke(a, b) for a, b in zip(before, after, strict=True)]
    return sum(f for f, _ in counts), sum(b for _, b in counts)


def score(rows: list[dict[str, object]], name: str) -> list[str]:
    """Per step: pooled CER, and what it fixed and broke against the step before."""
    steps: dict[str, list[Alignment]] = {step: [] for step in [*STEPS, "final"]}
    for row in (r for r in rows if r["set"] == name):
        reference, heard = str(row["ref"]), _chosen(row)
        for step, flags in STEPS.items():
            texts = (
                s.text if flags is None else postprocess(s.text, DEFAULT_GLOSSARY, filler=False, **flags)
                for s in heard.segments
            )
            steps[step].append(align(reference, join_segments(texts, "zh"), "zh"))
        steps["final"].append(align(reference, finalize(heard, DEFAULT_GLOSSARY).text, "zh"))
    lines, before = [], None
    for step, found in steps.items():
        moved = ""
        if before is not None:
            fixed, broke = _moved(before, found)
            moved = f"  fixed {fixed:3d}  broke {broke:3d}"
        lines.append(f"{name:7s} {step:12s} CER {pooled_rate(found):.3f}{moved}")
        before = found
    return [f"{name}: {len(steps['raw'])} clips, {sum(a.reference_length for a in steps['raw'])} characters", *lines]


def memory_replay(rows: list[dict[str, object]]) -> str:
    dev = [r for r in rows if r["set"] == "dev"]
    finals = [finalize(_chosen(r), DEFAULT_GLOSSARY).text for r in dev]
    before: list[Alignment] = []
    after: list[Alignment] = []
    for fold in (0, 1):
        pairs: Counter[Pair] = Counter()
        for i in range(fold, len(dev), 2):
            pairs.update(learn(finals[i], str(dev[i]["ref"]), DEFAULT_GLOSSARY.terms))
        memory = CorrectionMemory.of(list(pairs))
        for i in range(1 - fold, len(dev), 2):
            before.append(align(str(dev[i]["ref"]), finals[i], "zh"))
            after.append(align(str(dev[i]["ref"]), memory.apply(finals[i], DEFAULT_GLOSSARY.terms), "zh"))
    fixed, broke = _moved(before, after)
    return f"memory (one half -> the other): CER {pooled_rate(before):.3f} -> {pooled_rate(after):.3f}, fixed {fixed} broke {broke}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("save", "score"))
    parser.add_argument("path", type=Path)
    parser.add_argument("--dev-dir", type=Path, default=HERE / "voice_dev")
    parser.add_argument("--shared-dir", type=Path, default=HERE.parent.parent / "shared/voice")
    parser.add_argument("--memory", action="store_true")
    args = parser.parse_args()
    if args.action == "save":
        save(args.path, {"dev": args.dev_dir, "shared": args.shared_dir})
        return
    rows = json.loads(args.path.read_text(encoding="utf-8"))
    for name in ("dev", "shared"):
        print("\n".join(score(rows, name)))
    if args.memory:
        print(memory_replay(rows))


if __name__ == "__main__":
    main()
