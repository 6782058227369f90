"""Second-pass Mandarin correction: misheard words replaced by real words that sound alike.

Whisper base often writes a sound-alike that is not a word at all (陪讯 for 培训, 工店 for 供电,
令行 for 另行: slips seen on the development set). Such spellings fall apart into single
characters, so the lexicon's language model scores them below the real words. The search:

1. proposes, for every span of 2-4 characters that is not a common word, the common words with
   the same fuzzy pinyin, unless the span touches a word the sentence plausibly says (a word it
   would cut in two, a whole dictionary word, a glossary term or a roster name);
2. scores each proposal by the language-model gain, less a cost for every syllable whose sound
   or tone differs (the tones and sounds the model heard are evidence too);
3. applies the best non-overlapping edits and repeats until nothing improves.

Single characters are never replaced on their own: with a unigram model the most frequent
homophone would always win (得 -> 的), which is style, not evidence. For the same reason the
bar for an edit is high: two correct single characters (再核, 条河) also "gain" by becoming one
word (载荷, 调和), and only a large gain separates a slip from a correct sentence.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from voice.lexicon import CJK_RUN, MAX_WORD, Lexicon, fuzzy_syllable, syllables

#: Spans made only of numerals are counting or quantities (一二三四五六七, 每两小时): any "word"
#: that sounds like them is a worse guess than the numbers the model heard.
_NUMERALS = frozenset("零〇一二两三四五六七八九十百千万亿")

#: A span this common (jieba count) is a real word: leave it, whatever sounds like it.
COMMON_SPAN_FREQ = 30
#: Cost in nats of one syllable whose fuzzy sound differs (zh/z, -ng/-n) ...
FUZZY_COST = 3.0
#: ... and of one syllable whose tone differs.
TONE_COST = 2.0
#: An edit must gain at least this much after costs. Measured: on the 239 correct sentences of
#: tests/voice/data and the dev set, 5.5 was the largest gain of an edit that broke a correct
#: sentence (这条河 -> 这调和); on the dev set's greedy transcripts 6.0 keeps 13 of the 21
#: characters 2.5 fixed, and breaks none where 2.5 broke correct text across the board.
MIN_GAIN = 6.0
#: Proposals tried per span (most frequent words first).
CANDIDATES_PER_SPAN = 6
#: Rounds of edits (an edit can make its neighbour's correction visible).
MAX_ROUNDS = 3


@dataclass(frozen=True)
class Edit:
    start: int
    end: int
    replacement: str
    gain: float

    def overlaps(self, other: Edit) -> bool:
        return self.start < other.end and other.start < self.end


def _toned(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin

    return list(lazy_pinyin(text, style=Style.TONE3, errors="ignore", neutral_tone_with_five=True))


@functools.lru_cache(maxsize=8192)
def _tones_of(character: str) -> frozenset[str]:
    """Every tone the character is read with (会: hui4 and kuai4; 应: ying1 and ying4): a misheard
    character carries no context, so any of its readings may be the one the model heard."""
    from pypinyin import Style, pinyin

    readings = pinyin(character, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True)
    return frozenset(reading[-1:] for reading in readings[0]) if readings else frozenset()


def _parts(syllable: str) -> tuple[str, str]:
    """(initial, final) of a toneless syllable."""
    for initial in ("zh", "ch", "sh", *"bpmfdtnlgkhjqxrzcsyw"):
        if syllable.startswith(initial) and len(syllable) > len(initial):
            return initial, syllable[len(initial) :]
    return "", syllable


def _sound_cost(span: str, word: str) -> float:
    """Cost of hearing ``span`` when ``word`` was said: fuzzy sound and tone differences."""
    heard, said, said_toned = syllables(span), syllables(word), _toned(word)
    cost = 0.0
    for character, h, s, st in zip(span, heard, said, said_toned, strict=False):
        if h != s:
            if fuzzy_syllable(h) != fuzzy_syllable(s):
                return float("inf")
            # Each confused part of the syllable counts: liang -> nian is two confusions.
            cost += FUZZY_COST * sum(a != b for a, b in zip(_parts(h), _parts(s), strict=True))
        if st[-1:] not in _tones_of(character):
            cost += TONE_COST
    return cost


def cuts_word(words: Sequence[tuple[int, int, str]], start: int, end: int) -> bool:
    """True if the span [start, end) would cut a dictionary word of the sentence in two."""
    return any(
        len(word) > 1 and w_start < end and start < w_end and (w_start < start or w_end > end)
        for w_start, w_end, word in words
    )


def word_spans(words: Sequence[str]) -> list[tuple[int, int, str]]:
    """(start, end, word) of each word of a segmentation."""
    spans, start = [], 0
    for word in words:
        spans.append((start, start + len(word), word))
        start += len(word)
    return spans


def _keeps_context(words: Sequence[tuple[int, int, str]], start: int, end: int, lexicon: Lexicon) -> bool:
    """True if the span [start, end) touches a word the sentence plausibly says: a word it would
    cut in two, the whole span as one dictionary word, a common word inside it, or a glossary
    term or name. Misheard spellings fall apart into single characters; a span that would cut
    小时 (二十四小时守 -> 石首) or touch a roster name is the model's correct output, not a slip."""
    if cuts_word(words, start, end):
        return True
    for w_start, w_end, word in words:
        if w_end <= start or w_start >= end or len(word) < 2:
            continue
        if (w_start, w_end) == (start, end) or word in lexicon.extra or lexicon.frequency(word) >= COMMON_SPAN_FREQ:
            return True
    return False


def propose(text: str, lexicon: Lexicon) -> list[Edit]:
    """Every span correction that improves the text, by language-model gain less sound cost."""
    edits: list[Edit] = []
    for match in CJK_RUN.finditer(text):
        run, offset = match.group(0), match.start()
        base = lexicon.logprob(run)
        words = word_spans(lexicon.segment(run))
        for length in range(2, min(MAX_WORD, len(run)) + 1):
            for i in range(len(run) - length + 1):
                span = run[i : i + length]
                if lexicon.frequency(span) >= COMMON_SPAN_FREQ or set(span) <= _NUMERALS:
                    continue
                if _keeps_context(words, i, i + length, lexicon):
                    continue
                for word in lexicon.sounds_alike(span)[:CANDIDATES_PER_SPAN]:
                    gain = lexicon.logprob(run[:i] + word + run[i + length :]) - base
                    gain -= _sound_cost(span, word)
                    if gain >= MIN_GAIN:
                        edits.append(Edit(offset + i, offset + i + length, word, gain))
    return edits


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    for edit in sorted(edits, key=lambda e: -e.start):
        text = text[: edit.start] + edit.replacement + text[edit.end :]
    return text


def _choose(edits: Sequence[Edit]) -> list[Edit]:
    chosen: list[Edit] = []
    for edit in sorted(edits, key=lambda e: -e.gain):
        if not any(edit.overlaps(c) for c in chosen):
            chosen.append(edit)
    return chosen


def correct(text: str, lexicon: Lexicon) -> str:
    """``text`` with its misheard words replaced, or unchanged when nothing is clearly better."""
    for _ in range(MAX_ROUNDS):
        chosen = _choose(propose(text, lexicon))
        if not chosen:
            break
        text = apply_edits(text, chosen)
    return text
