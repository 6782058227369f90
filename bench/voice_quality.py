"""Voice quality benchmark: each Mandarin improvement's effect, side by side, on two sets.

    .venv/bin/python -m bench.voice_quality [--test-dir ../shared/voice] [--threads 2]

Sets: the tuning set (bench/voice_dev, what the correction passes were tuned on) and the test set
(the shared voice set, kept out of tuning). Steps are cumulative:
  raw          faster-whisper base, int8, greedy, VAD on, language zh/en detected, no prompt
  +simplified  Traditional -> Simplified (zhconv)
  +glossary    pinyin correction against the office glossary
  +lexicon     misheard spellings replaced by real words that sound alike (voice.rescore),
               and misheard hours put right (上午就点 -> 上午九点)
  +filler      low-confidence segments and subtitle filler dropped (= the production pipeline)
  previous     the previous production pipeline, for comparison: beam search of 5 with the
               glossary as Whisper's prompt, then simplified + glossary + filler
Prints per-file error rates (CER for zh, WER for en), means, real-time factor, time per message
and RSS.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.decode import decode_audio, duration_of
from voice.engine import FasterWhisperTranscriber, Transcript, join_segments, load_faster_whisper
from voice.glossary import DEFAULT_GLOSSARY
from voice.postprocess import finalize, postprocess, reliable_segments
from voice.scoring import error_rate

STEPS = ("raw", "+simplified", "+glossary", "+lexicon", "+filler", "previous")
HERE = Path(__file__).resolve().parent


def _rss_mb() -> float:
    import psutil

    return float(psutil.Process().memory_info().rss) / 1_048_576


def _load_refs(voice_dir: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in (voice_dir / "refs.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip():
            name, lang, text = line.split("\t")
            rows.append((name, lang, text))
    return rows


def _cleaned(raw: Transcript, **steps: bool) -> str:
    """The transcript after the given postprocess steps, segment by segment (no filtering)."""
    texts = (postprocess(s.text, DEFAULT_GLOSSARY, filler=False, **steps) for s in raw.segments)
    return join_segments(texts, raw.language)


@dataclass
class SetResult:
    scores: dict[str, dict[str, float]]
    langs: dict[str, tuple[str, str]]
    finals: dict[str, str]
    audio_seconds: float
    production_seconds: float
    per_message: list[float]


def run_set(voice_dir: Path, transcriber: FasterWhisperTranscriber, previous: FasterWhisperTranscriber) -> SetResult:
    result = SetResult({}, {}, {}, 0.0, 0.0, [])
    prompt = {"zh": DEFAULT_GLOSSARY.prompt()}
    for name, lang, ref in _load_refs(voice_dir):
        data = (voice_dir / f"{name}.ogg").read_bytes()
        start = time.perf_counter()
        audio = decode_audio(data)
        raw = transcriber.transcribe(audio)
        final = finalize(raw, DEFAULT_GLOSSARY)
        elapsed = time.perf_counter() - start
        old = previous.transcribe(audio, prompt=prompt)
        old_final = finalize(old, DEFAULT_GLOSSARY, lexicon=False)
        texts = {
            "raw": raw.text,
            "+simplified": _cleaned(raw, homophones=False, lexicon=False),
            "+glossary": _cleaned(raw, lexicon=False),
            "+lexicon": _cleaned(raw),
            "+filler": final.text,
            "previous": old_final.text,
        }
        result.scores[name] = {step: error_rate(ref, texts[step], lang) for step in STEPS}
        result.langs[name] = (lang, final.language)
        result.finals[name] = final.text
        result.audio_seconds += duration_of(audio)
        result.production_seconds += elapsed
        result.per_message.append(elapsed)
    return result


def print_set(title: str, result: SetResult) -> None:
    print(f"\n== {title}: error rate per file (CER for zh, WER for en); lang = reference/detected")
    print(f"{'file':<22}{'lang':<7}" + "".join(f"{s:>13}" for s in STEPS))
    for name, row in result.scores.items():
        ref_lang, got = result.langs[name]
        print(f"{name:<22}{ref_lang + '/' + got:<7}" + "".join(f"{row[s]:>13.3f}" for s in STEPS))
    for lang, label in (("zh", "mean CER zh"), ("en", "mean WER en")):
        names = [n for n in result.scores if result.langs[n][0] == lang]
        if names:
            means = [statistics.mean(result.scores[n][s] for n in names) for s in STEPS]
            print(f"{label:<29}" + "".join(f"{m:>13.3f}" for m in means))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test-dir", type=Path, default=HERE.parents[1] / "shared" / "voice")
    parser.add_argument("--tuning-dir", type=Path, default=HERE / "voice_dev")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    rss_start = _rss_mb()
    transcriber = FasterWhisperTranscriber(cpu_threads=args.threads)
    previous = FasterWhisperTranscriber(cpu_threads=args.threads, beam_size=5)
    start = time.perf_counter()
    load_faster_whisper(transcriber.model_dir, transcriber.compute_type, transcriber.cpu_threads)
    transcriber.warm_up()
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    from voice.postprocess import warm_up

    warm_up()
    lexicon_s = time.perf_counter() - start
    print(
        f"model load {load_s:.2f} s, lexicon {lexicon_s:.2f} s; RSS {rss_start:.0f} MB at start, {_rss_mb():.0f} MB after"
    )

    results = {}
    for title, folder in (
        ("tuning set (bench/voice_dev)", args.tuning_dir),
        ("test set (shared voice)", args.test_dir),
    ):
        if not (folder / "refs.tsv").is_file():
            print(f"\n{title}: not found at {folder}")
            continue
        results[title] = run_set(folder, transcriber, previous)
        print_set(title, results[title])

    if results:
        test = list(results.values())[-1]
        print("\nfinal transcripts (last set):")
        for name, text in test.finals.items():
            print(f"  {name:<22}{text}")

    rng = np.random.default_rng(0)
    for label, audio in (
        ("silence 10 s", np.zeros(160_000, dtype=np.float32)),
        ("white noise 10 s", (rng.standard_normal(160_000) * 0.05).astype(np.float32)),
    ):
        raw = transcriber.transcribe(audio)
        segments = [s.text for s in reliable_segments(raw.segments)]
        print(f"{label}: raw={raw.text!r} kept segments={segments!r} final={finalize(raw).text!r}")

    audio_total = sum(r.audio_seconds for r in results.values())
    time_total = sum(r.production_seconds for r in results.values())
    short = [t for r in results.values() for t in r.per_message]
    if audio_total:
        print(
            f"\nreal-time factor {time_total / audio_total:.3f} ({time_total:.1f} s for {audio_total:.1f} s of audio, production path)"
        )
        print(
            f"decode+transcribe+postprocess per message: p50 {statistics.median(short):.2f} s, max {max(short):.2f} s"
        )
    print(f"RSS after the run {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
