"""Error rates for the benchmark and the quality tests (jiwer does the alignment).

Mandarin is scored by character after converting to Simplified, spelling numbers the way the
references do (9点 -> 九点, 120 -> 一百二十, 3点20 -> 三点二十; long digit strings digit by digit;
两 counts as 二, since 2000 is spelt 二千 and a speaker says 两千) and removing punctuation;
English by word after lower-casing and removing punctuation (p.m. -> pm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DIGITS = "零一二三四五六七八九"
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_NOT_WORD = re.compile(r"[^\w\s]|_", re.UNICODE)


def _spell_number(match: re.Match[str]) -> str:
    import cn2an

    number = match.group(0)
    if len(number) > 4:  # phone numbers, counting "1234567890": read digit by digit
        return "".join(_DIGITS[int(d)] if d.isdigit() else "点" for d in number)
    return str(cn2an.an2cn(number))


def normalize_zh(text: str) -> str:
    import zhconv

    text = str(zhconv.convert(text, "zh-cn"))
    text = _NUMBER.sub(_spell_number, text).replace("两", "二")
    return re.sub(r"\s+", "", _NOT_WORD.sub("", text))


def normalize_en(text: str) -> str:
    return " ".join(_NOT_WORD.sub("", text.lower()).split())


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    """CER for zh, WER for en (1.0 when the hypothesis is empty and the reference is not)."""
    import jiwer

    if language == "zh":
        ref, hyp = normalize_zh(reference), normalize_zh(hypothesis)
        return float(jiwer.cer(ref, hyp)) if hyp else 1.0
    ref, hyp = normalize_en(reference), normalize_en(hypothesis)
    return float(jiwer.wer(ref, hyp)) if hyp else 1.0


@dataclass(frozen=True)
class Alignment:
    """One transcript against its reference: what pooled rates and fixed/broke counts need."""

    reference_length: int
    errors: int
    right: frozenset[int]  # positions of reference units the hypothesis got right
    insertions: int


def align(reference: str, hypothesis: str, language: str) -> Alignment:
    """Characters (zh) or words (en) of the normalised reference, aligned with the hypothesis."""
    import jiwer

    if language == "zh":
        ref, hyp = normalize_zh(reference), normalize_zh(hypothesis)
        if not hyp:
            return Alignment(len(ref), len(ref), frozenset(), 0)
        out: jiwer.CharacterOutput | jiwer.WordOutput = jiwer.process_characters(ref, hyp)
        length = len(ref)
    else:
        ref, hyp = normalize_en(reference), normalize_en(hypothesis)
        if not hyp:
            return Alignment(len(ref.split()), len(ref.split()), frozenset(), 0)
        out = jiwer.process_words(ref, hyp)
        length = len(ref.split())
    right = frozenset(
        i for chunk in out.alignments[0] if chunk.type == "equal" for i in range(chunk.ref_start_idx, chunk.ref_end_idx)
    )
    return Alignment(length, out.substitutions + out.deletions + out.insertions, right, out.insertions)


def fixed_and_broke(before: Alignment, after: Alignment) -> tuple[int, int]:
    """Reference units a pass put right and ones it made wrong (an inserted unit counts as wrong)."""
    fixed = len(after.right - before.right) + max(0, before.insertions - after.insertions)
    broke = len(before.right - after.right) + max(0, after.insertions - before.insertions)
    return fixed, broke


def pooled_rate(alignments: list[Alignment]) -> float:
    """Errors over reference units of all clips together (not the mean of per-clip rates)."""
    total = sum(a.reference_length for a in alignments)
    return sum(a.errors for a in alignments) / total if total else 0.0
