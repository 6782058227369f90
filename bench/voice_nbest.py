"""Would rescoring Whisper's beam finalists with the lexicon help? A measurement, not yet production.

    .venv/bin/python -m bench.voice_nbest [--dev-dir bench/voice_dev]

For each Mandarin dev clip (the espeak-ng stress voices left out; one 30-second window, no
timestamps), the decoder returns its 5 beam finalists; each goes through the correction passes
and is scored as Whisper's summed log-probability + lambda x the lexicon's log-probability.
Printed: pooled CER of the pick for several lambdas (lambda 0 = Whisper's own top choice) and of
the best finalist (the most any rescoring could gain).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.voice_quality import HERE, load_refs
from voice.decode import decode_audio
from voice.engine import FasterWhisperTranscriber
from voice.glossary import DEFAULT_GLOSSARY
from voice.lexicon import Lexicon
from voice.postprocess import postprocess
from voice.scoring import align, pooled_rate

LAMBDAS = (0.0, 0.1, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class Finalist:
    text: str
    whisper: float  # summed log-probability of the tokens
    lexicon: float


def finalists(engine: FasterWhisperTranscriber, audio: np.ndarray, lexicon: Lexicon, beams: int = 5) -> list[Finalist]:
    from faster_whisper.audio import pad_or_trim
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps

    model = engine.model
    chunks = get_speech_timestamps(audio, VadOptions())
    if not chunks:
        return []
    speech = np.concatenate(collect_chunks(audio, chunks)[0])
    features = model.feature_extractor(speech)
    window = features[:, : min(model.feature_extractor.nb_max_frames, features.shape[-1] - 1)]
    tokenizer = Tokenizer(model.hf_tokenizer, True, task="transcribe", language="zh")
    prompt = model.get_prompt(tokenizer, [], without_timestamps=True)
    result = model.model.generate(
        model.encode(pad_or_trim(window)),
        [prompt],
        beam_size=beams,
        num_hypotheses=beams,
        return_scores=True,
        max_length=448,
        suppress_blank=True,
        suppress_tokens=[-1],
    )[0]
    found = []
    for ids, score in zip(result.sequences_ids, result.scores, strict=True):
        text = postprocess(tokenizer.decode(ids).strip(), DEFAULT_GLOSSARY)
        # scores are per token (length penalty 1): times the length gives the sum.
        found.append(Finalist(text, float(score) * len(ids), lexicon.logprob(text)))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dev-dir", type=Path, default=HERE / "voice_dev")
    parser.add_argument("--limit", type=int, default=0, help="only the first N clips (a quick look)")
    args = parser.parse_args()
    engine = FasterWhisperTranscriber(beam_size=5)
    lexicon = Lexicon.build(DEFAULT_GLOSSARY.terms)
    clips = []
    rows = load_refs(args.dev_dir)
    for path, lang, ref in rows[: args.limit] if args.limit else rows:
        if lang == "zh" and "espeak" not in path.name:
            found = finalists(engine, decode_audio(path.read_bytes()), lexicon)
            if found:
                clips.append((ref, found))
    for weight in LAMBDAS:
        picks = [max(found, key=lambda f, w=weight: f.whisper + w * f.lexicon) for _, found in clips]  # type: ignore[misc]
        rate = pooled_rate([align(ref, pick.text, "zh") for (ref, _), pick in zip(clips, picks, strict=True)])
        print(f"lambda {weight:<4} pooled CER {rate:.4f}  ({len(clips)} clips)")
    best = [min((align(ref, f.text, "zh") for f in found), key=lambda a: a.errors) for ref, found in clips]
    print(f"best of the finalists  pooled CER {pooled_rate(best):.4f}")


if __name__ == "__main__":
    main()
