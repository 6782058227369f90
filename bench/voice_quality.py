"""Voice quality benchmark: each Mandarin improvement's effect, side by side.

    .venv/bin/python -m bench.voice_quality [--voice-dir ../shared/voice] [--threads 2]

Steps are cumulative:
  raw         faster-whisper base, int8, VAD on, language zh/en detected, no prompt
  +simplified Traditional -> Simplified (zhconv)
  +glossary   the glossary as initial_prompt (Mandarin only)
  +homophones pinyin correction against the glossary
  +filler     low-confidence segments and subtitle filler dropped (= the production pipeline)
An extra column shows the glossary as faster-whisper ``hotwords`` instead of a prompt.
Prints per-file error rates (CER for zh, WER for en), means, real-time factor, load time and RSS.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

from voice.decode import decode_audio, duration_of
from voice.engine import FasterWhisperTranscriber, Transcript, load_faster_whisper
from voice.glossary import DEFAULT_GLOSSARY
from voice.postprocess import correct_homophones, finalize, postprocess, to_simplified
from voice.scoring import error_rate

STEPS = ("raw", "+simplified", "+glossary", "+homophones", "+filler", "hotwords-alt")


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


def _timed(fn: Callable[[], Transcript]) -> tuple[Transcript, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_dir = Path(__file__).resolve().parents[2] / "shared" / "voice"
    parser.add_argument("--voice-dir", type=Path, default=default_dir)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    rss_start = _rss_mb()
    transcriber = FasterWhisperTranscriber(cpu_threads=args.threads)
    start = time.perf_counter()
    load_faster_whisper(transcriber.model_dir, transcriber.compute_type, transcriber.cpu_threads)
    load_s = time.perf_counter() - start
    rss_loaded = _rss_mb()

    glossary = DEFAULT_GLOSSARY
    prompt = {"zh": glossary.prompt()}
    hotwords = {"zh": glossary.hotwords()}
    refs = _load_refs(args.voice_dir)
    scores: dict[str, dict[str, float]] = {}
    langs: dict[str, tuple[str, str]] = {}
    total_audio = total_time = 0.0
    short_latencies: list[float] = []
    finals: dict[str, str] = {}

    for name, lang, ref in refs:
        data = (args.voice_dir / f"{name}.ogg").read_bytes()
        t0 = time.perf_counter()
        audio = decode_audio(data)
        decode_s = time.perf_counter() - t0
        raw, _ = _timed(partial(transcriber.transcribe, audio))
        prompted, prompted_s = _timed(partial(transcriber.transcribe, audio, prompt=prompt))
        hot, _ = _timed(partial(transcriber.transcribe, audio, hotwords=hotwords))
        t1 = time.perf_counter()
        final = finalize(prompted, glossary)
        post_s = time.perf_counter() - t1
        total_audio += duration_of(audio)
        total_time += prompted_s + post_s
        if duration_of(audio) <= 15:
            short_latencies.append(decode_s + prompted_s + post_s)
        texts = {
            "raw": raw.text,
            "+simplified": to_simplified(raw.text),
            "+glossary": to_simplified(prompted.text),
            "+homophones": correct_homophones(to_simplified(prompted.text), glossary),
            "+filler": final.text,
            "hotwords-alt": postprocess(hot.text, glossary),
        }
        scores[name] = {step: error_rate(ref, texts[step], lang) for step in STEPS}
        langs[name] = (lang, final.language)
        finals[name] = final.text

    print(f"model load {load_s:.2f} s; RSS {rss_start:.0f} MB at start, {rss_loaded:.0f} MB after load")
    header = f"{'file':<22}{'lang':<7}" + "".join(f"{s:>13}" for s in STEPS)
    print("\nerror rate per file (CER for zh, WER for en); lang = reference/detected")
    print(header)
    for name, row in scores.items():
        ref_lang, got = langs[name]
        print(f"{name:<22}{ref_lang + '/' + got:<7}" + "".join(f"{row[s]:>13.3f}" for s in STEPS))
    for lang, label in (("zh", "mean CER zh"), ("en", "mean WER en")):
        names = [n for n in scores if langs[n][0] == lang]
        if names:
            means = [statistics.mean(scores[n][s] for n in names) for s in STEPS]
            print(f"{label:<29}" + "".join(f"{m:>13.3f}" for m in means))

    print("\nfinal transcripts:")
    for name, text in finals.items():
        print(f"  {name:<22}{text}")

    rng = np.random.default_rng(0)
    for label, audio in (
        ("silence 10 s", np.zeros(160_000, dtype=np.float32)),
        ("white noise 10 s", (rng.standard_normal(160_000) * 0.05).astype(np.float32)),
    ):
        raw = transcriber.transcribe(audio, prompt=prompt)
        print(f"{label}: raw={raw.text!r} final={finalize(raw, glossary).text!r}")

    rtf = total_time / total_audio if total_audio else float("nan")
    p50 = statistics.median(short_latencies) if short_latencies else float("nan")
    print(f"\nreal-time factor {rtf:.3f} ({total_time:.1f} s for {total_audio:.1f} s of audio, production path)")
    print(f"decode+transcribe+postprocess p50 for messages <= 15 s: {p50:.2f} s")
    print(f"RSS after the run {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
