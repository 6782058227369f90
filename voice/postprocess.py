"""Mandarin clean-up after Whisper: Simplified script, no invented filler, office words spelled right.

Order matters: convert to Simplified first (the glossary and jieba's dictionary are Simplified),
then drop filler, then fix homophones (the glossary's, then any word's: ``voice.rescore``), so a
removed subtitle credit never gets "corrected".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from voice.engine import Segment, Transcript, join_segments
from voice.glossary import DEFAULT_GLOSSARY, Glossary
from voice.lexicon import CJK_RUN, Lexicon, word_frequency
from voice.rescore import correct as correct_words
from voice.rescore import cuts_word, said_spans, touches_said, word_spans

# --- (a) Traditional -> Simplified ------------------------------------------------------------


#: Taiwan spellings zhconv keeps as a valid mainland word of another sense: Whisper writes 紀錄 for
#: a record of a meeting or a shift (mainland 记录); 纪录 stays only where it means a record set or
#: broken (创纪录, 世界纪录) or a documentary (纪录片).
_MAINLAND_USAGE: tuple[tuple[re.Pattern[str], str], ...] = ((re.compile(r"(?<![破创新界])纪录(?!片)"), "记录"),)


def to_simplified(text: str) -> str:
    """zhconv's zh-cn table also maps Taiwan/HK wording (鏈接 -> 链接), not just characters; a few
    Taiwan spellings it leaves as another word are mapped to mainland usage (紀錄 -> 记录)."""
    import zhconv

    text = str(zhconv.convert(text, "zh-cn"))
    for pattern, mainland in _MAINLAND_USAGE:
        text = pattern.sub(mainland, text)
    return text


# --- (b) hallucinated filler ------------------------------------------------------------------

#: Phrases Whisper learnt from subtitled videos and produces on silence/noise. They are removed
#: wherever they appear: no duty officer says them in a voice message.
FILLER_PATTERNS: tuple[str, ...] = (
    r"请不吝点赞\s*订阅\s*转发\s*打赏支持明镜与点点栏目",
    r"明镜与点点栏目",
    r"字幕由\s*Amara\.org\s*社区提供",
    r"(中文)?字幕(志愿者|制作|翻译|校对)[:：]?\s*\S{0,12}",
    r"优优独播剧场.{0,20}",
    r"(欢迎|请)?(点赞|订阅|关注|转发)(我的|本)?(频道|节目)",
    r"by\s*索兰娅",
    r"Subtitles by the Amara\.org community",
    r"(Thanks|Thank you) for watching[.!]?",
    r"Please subscribe[^.!?]*[.!?]?",
)
#: Phrases that are filler only when they are the *whole* segment (谢谢 alone can be real).
FILLER_SEGMENTS: frozenset[str] = frozenset(
    {"谢谢观看", "感谢观看", "谢谢收看", "感谢收看", "谢谢大家观看", "下期再见", "我们下期再见", "thank you", "you"}
)
_FILLER_RE = re.compile("|".join(f"(?:{p})" for p in FILLER_PATTERNS), re.IGNORECASE)
# A unit of 2+ characters repeated 3+ more times, or one character 4+ more times: Whisper's loop.
_REPEAT_RE = re.compile(r"(.{2,12}?)(?:[\s，,。、]*\1){3,}|(.)\2{4,}")
_PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)
_FILLER_SEGMENTS_BARE = frozenset(_PUNCT_RE.sub("", s).lower() for s in FILLER_SEGMENTS)
_HALF_TO_FULL = {",": "，", "?": "？", "!": "！", ";": "；", ":": "："}
# ASCII punctuation next to a Chinese character (Whisper mixes both styles in one sentence).
_ASCII_PUNCT_IN_ZH = re.compile(r"(?<=[\u4e00-\u9fff])\s*([,?!;:])\s*|\s*([,?!;:])\s*(?=[\u4e00-\u9fff])")


def _bare(text: str) -> str:
    return _PUNCT_RE.sub("", text).lower()


def chinese_punctuation(text: str) -> str:
    """Full-width ，？！ between Chinese characters, as a Chinese reader expects."""
    return _ASCII_PUNCT_IN_ZH.sub(lambda m: _HALF_TO_FULL[m.group(1) or m.group(2)], text)


def drop_filler(text: str) -> str:
    """Remove known subtitle credits / sign-offs and collapse runaway repetition."""
    if _bare(text) in _FILLER_SEGMENTS_BARE:
        return ""
    text = _FILLER_RE.sub("", text)
    text = _REPEAT_RE.sub(lambda m: m.group(1) or m.group(2), text)
    # Removing a phrase can leave a dangling separator at the start ("，请准时参加").
    return text.strip().lstrip("，,、 ")


@dataclass(frozen=True)
class FillerThresholds:
    """Whisper's own "this is silence" rule (no_speech > 0.6 with avg_logprob < -1), plus two
    outright limits for segments that are gibberish even when the VAD let them through."""

    no_speech_prob: float = 0.6
    logprob_with_no_speech: float = -1.0
    min_avg_logprob: float = -1.5
    max_compression_ratio: float = 2.4


def reliable_segments(segments: Iterable[Segment], thresholds: FillerThresholds = FillerThresholds()) -> list[Segment]:
    """Segments that are probably speech, judged on the decoder's own confidence."""
    kept = []
    for seg in segments:
        silent = seg.no_speech_prob > thresholds.no_speech_prob and seg.avg_logprob < (
            thresholds.logprob_with_no_speech
        )
        if silent or seg.avg_logprob < thresholds.min_avg_logprob:
            continue
        if seg.compression_ratio > thresholds.max_compression_ratio:
            continue
        kept.append(seg)
    return kept


# --- (d) homophone correction against the glossary --------------------------------------------

#: Real words that sound exactly like a glossary term and are common in speech.
PROTECTED_WORDS: frozenset[str] = frozenset({"既要", "相应", "会上", "同志", "事实", "实施", "报道"})
#: A span that is a word this common (jieba frequency) is more likely right than a homophone guess.
COMMON_WORD_FREQ = 100
#: Real words the dictionary lacks that sound exactly like a glossary term, with the words that,
#: anywhere in the same message, make them the likely reading: a ship 到港 (arrives in port), a
#: person 到岗 (reports for duty).
IN_CONTEXT: Mapping[str, tuple[str, ...]] = {
    "到港": ("船", "轮", "港口", "码头", "航班", "货物", "集装箱"),
}


@dataclass(frozen=True)
class _Term:
    text: str
    toned: tuple[str, ...]


@functools.lru_cache(maxsize=32)
def _index(terms: tuple[str, ...]) -> tuple[dict[tuple[str, ...], list[_Term]], tuple[int, ...]]:
    """Glossary terms by toneless pinyin; lengths longest first so the longest match wins."""
    from pypinyin import Style, lazy_pinyin

    by_sound: dict[tuple[str, ...], list[_Term]] = {}
    for term in terms:
        if len(term) < 2 or not CJK_RUN.fullmatch(term):
            continue  # one character has too many homophones to correct safely
        toneless = tuple(lazy_pinyin(term, style=Style.NORMAL))
        toned = tuple(lazy_pinyin(term, style=Style.TONE3))
        by_sound.setdefault(toneless, []).append(_Term(term, toned))
    lengths = tuple(sorted({len(k) for k in by_sound}, reverse=True))
    return by_sound, lengths


def _tone_mismatches(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    return sum(x != y for x, y in zip(a, b, strict=True))


def _choose(candidates: Sequence[_Term], span: str, toned: tuple[str, ...]) -> str | None:
    """The term to write instead of ``span``, or None to leave it alone."""
    if any(c.text == span for c in candidates):
        return None
    freq = word_frequency(span)
    if freq >= COMMON_WORD_FREQ:
        return None
    # A rare real word (中报 for 终报) is replaced only when even the tones agree. A non-word (防训
    # for 防汛, 指会部 for 指挥部) is an ASR slip, and tones blur in fast speech, so up to half
    # may differ; more than that (清石 qīngshí vs 请示 qǐngshì) is more likely an unknown name.
    allowed = 0 if freq > 0 else len(span) // 2
    pool = [c for c in candidates if _tone_mismatches(c.toned, toned) <= allowed]
    if len(pool) > 1:
        best = min(_tone_mismatches(c.toned, toned) for c in pool)
        pool = [c for c in pool if _tone_mismatches(c.toned, toned) == best]
    return pool[0].text if len(pool) == 1 else None


def correct_homophones(text: str, glossary: Glossary | Iterable[str] = DEFAULT_GLOSSARY) -> str:
    """Replace spans that sound like a glossary term but are spelled differently.

    Only whole runs of Chinese characters are scanned (never across punctuation), only terms of
    2+ characters are used, the longest match wins, and spans that are glossary terms themselves,
    protected words, common words, words their context makes likely (``IN_CONTEXT``) or spans
    that would cut a word of the sentence in two (请市民 is not 请示 + 民) are left alone.
    """
    from pypinyin import Style, lazy_pinyin

    terms = tuple(glossary.terms if isinstance(glossary, Glossary) else glossary)
    by_sound, lengths = _index(terms)
    if not by_sound:
        return text
    term_set = frozenset(terms)

    def fix_run(match: re.Match[str]) -> str:
        run = match.group(0)
        # Pinyin of the whole run, so polyphonic characters get their reading in context.
        toneless = lazy_pinyin(run, style=Style.NORMAL)
        toned = lazy_pinyin(run, style=Style.TONE3)
        if len(toneless) != len(run):  # pypinyin returned a non-Chinese chunk; stay safe
            return run
        words = word_spans(_lexicon(terms).segment(run))
        out: list[str] = []
        i = 0
        while i < len(run):
            for length in lengths:
                if i + length > len(run):
                    continue
                span = run[i : i + length]
                candidates = by_sound.get(tuple(toneless[i : i + length]))
                if not candidates or span in term_set or span in PROTECTED_WORDS:
                    continue
                if any(cue in text for cue in IN_CONTEXT.get(span, ())) or cuts_word(words, i, i + length):
                    continue
                if touches_said(run, i, i + length) and (i, i + length) not in said_spans(run):
                    # Part of a name (雁栖沟 is no 延期) or a particle; a whole name may still be
                    # respelt as the glossary's (张卫冬 -> the roster's 张卫东).
                    continue
                chosen = _choose(candidates, span, tuple(toned[i : i + length]))
                if chosen is not None:
                    out.append(chosen)
                    i += length
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    return CJK_RUN.sub(fix_run, text)


# --- the whole pass ---------------------------------------------------------------------------


def postprocess(
    text: str,
    glossary: Glossary | Iterable[str] | None = DEFAULT_GLOSSARY,
    *,
    simplify: bool = True,
    filler: bool = True,
    homophones: bool = True,
    lexicon: bool = True,
) -> str:
    """Simplified script -> filler removed -> glossary homophones fixed -> misheard words replaced
    by real words (``voice.rescore``). Flags exist for the benchmark.

    There is no pass for misheard clock hours (上午X点 with X a homophone of a numeral) any more:
    on the development set it fixed nothing and it was tuned to another set's errors."""
    if simplify:
        text = chinese_punctuation(to_simplified(text))
    if filler:
        text = drop_filler(text)
    terms = _terms(glossary)
    if homophones and terms:
        text = correct_homophones(text, terms)
    if lexicon:  # rests on the general dictionary
        text = correct_words(text, _lexicon(terms))
    return text.strip()


def warm_up() -> None:
    """Build what the correction passes look things up in (about 5 s), before the first message."""
    Lexicon.warm_up()


def _terms(glossary: Glossary | Iterable[str] | None) -> tuple[str, ...]:
    if glossary is None:
        return ()
    return tuple(glossary.terms if isinstance(glossary, Glossary) else glossary)


@functools.lru_cache(maxsize=16)
def _lexicon(terms: tuple[str, ...]) -> Lexicon:
    return Lexicon.build(terms)


def lexicon_for(terms: Iterable[str]) -> Lexicon:
    """The correction passes' lexicon for a glossary (built once per term list)."""
    return _lexicon(tuple(terms))


def finalize(
    transcript: Transcript,
    glossary: Glossary | Iterable[str] | None = DEFAULT_GLOSSARY,
    *,
    thresholds: FillerThresholds = FillerThresholds(),
    lexicon: bool = True,
) -> Transcript:
    """Apply segment-level filtering and ``postprocess`` to a raw engine transcript."""
    kept = []
    for seg in reliable_segments(transcript.segments, thresholds):
        cleaned = postprocess(seg.text, glossary, lexicon=lexicon)
        if cleaned:
            kept.append(replace(seg, text=cleaned))
    return replace(
        transcript,
        text=join_segments((s.text for s in kept), transcript.language),
        segments=tuple(kept),
    )
