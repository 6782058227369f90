"""Error rates for the benchmark and the quality tests (jiwer does the alignment).

Mandarin is scored by character after converting to Simplified, spelling numbers the way the
references do (9点 -> 九点; long digit strings digit by digit) and removing punctuation;
English by word after lower-casing and removing punctuation (p.m. -> pm).
"""

from __future__ import annotations

import re

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
    text = _NUMBER.sub(_spell_number, text)
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
