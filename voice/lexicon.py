"""A Mandarin lexicon for second-pass correction: how likely a spelling is, and what else sounds alike.

Two things come from jieba's general dictionary (about 350,000 words with corpus counts):

* a unigram word language model: the log-probability of the most likely segmentation of a run
  of characters, which is what jieba maximises when it segments. Misheard spellings fall apart
  into rare single characters (陪讯, 工店), so they score far below the real words (培训, 供电);
* an index of common words by *fuzzy* toneless pinyin, the confusions Mandarin speakers and
  speech models make (zh/z, ch/c, sh/s, -ng/-n), which gives the candidates to try.

The office glossary and the names of the people involved are added with a floor frequency, so
the model knows 首报 and 王建国 even where the general dictionary does not.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

#: A run of Chinese characters (the unit every Mandarin pass works on).
CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
_CJK_WORD = re.compile(r"[\u4e00-\u9fff]{1,4}")
#: Words rarer than this are never offered as a correction: a rare word is a guess, not a fix.
MIN_CANDIDATE_FREQ = 30
#: Glossary terms and names count at least this often (a common word in jieba's counts).
GLOSSARY_FREQ = 2_000
#: Longest span (in characters) looked up as one word.
MAX_WORD = 4


def fuzzy_syllable(syllable: str) -> str:
    """Collapse the sound pairs that are confused in speech: zh/ch/sh -> z/c/s, -ng -> -n.

    n/l, the other classic pair, is a regional accent rather than a model's slip; on our sets it
    only produced wrong words, so it is not collapsed."""
    for retroflex in ("zh", "ch", "sh"):
        if syllable.startswith(retroflex):
            syllable = syllable[0] + syllable[2:]
            break
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


def fuzzy_key(syllables: Sequence[str]) -> tuple[str, ...]:
    return tuple(fuzzy_syllable(s) for s in syllables)


def syllables(text: str) -> list[str]:
    """Toneless pinyin, one syllable per Chinese character (in context: 银行 -> yin hang)."""
    from pypinyin import Style, lazy_pinyin

    return list(lazy_pinyin(text, style=Style.NORMAL, errors="ignore"))


@functools.cache
def _general_dictionary() -> tuple[Mapping[str, int], float]:
    """jieba's word counts and the log of their total (loaded once per process)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt.FREQ, math.log(jieba.dt.total)


def word_frequency(word: str) -> int:
    """How common ``word`` is in jieba's general dictionary (0 = not a word)."""
    freq, _ = _general_dictionary()
    return int(freq.get(word) or 0)


#: Part-of-speech tags of proper names in jieba's dictionary (people, places, organisations; not
#: "nz", which also tags everyday words such as 汇报).
#: A name out of a general dictionary is never a good guess for a misheard span (李副 -> 礼服 is
#: bad enough; 五六七 -> 吴六奇 is worse); the names that matter come from the roster instead.
_NAME_TAGS = frozenset({"nr", "nrt", "nrfg", "ns", "nt"})


@functools.cache
def _sound_index() -> Mapping[tuple[str, ...], tuple[tuple[str, int], ...]]:
    """Common words (2-4 characters, not names) by fuzzy pinyin, most frequent first. About 3 s
    to build, so the worker builds it when it loads the model, not during the first message."""
    import jieba

    _general_dictionary()
    index: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    with jieba.dt.get_dict_file() as lines:
        for raw in lines:
            word, count, *tag = raw.decode("utf-8").split()
            if int(count) < MIN_CANDIDATE_FREQ or len(word) < 2 or (tag and tag[0] in _NAME_TAGS):
                continue
            if _CJK_WORD.fullmatch(word):
                sounds = syllables(word)
                if len(sounds) == len(word):
                    index.setdefault(fuzzy_key(sounds), []).append((word, int(count)))
    return {key: tuple(sorted(words, key=lambda w: -w[1])) for key, words in index.items()}


@dataclass(frozen=True)
class Lexicon:
    """The general dictionary plus this message's glossary (office terms, people, places)."""

    extra: Mapping[str, int]
    extra_by_sound: Mapping[tuple[str, ...], tuple[str, ...]]

    @classmethod
    def build(cls, glossary: Iterable[str] = ()) -> Lexicon:
        freq, _ = _general_dictionary()
        extra: dict[str, int] = {}
        by_sound: dict[tuple[str, ...], list[str]] = {}
        for term in glossary:
            sounds = syllables(term)
            if 2 <= len(term) <= MAX_WORD and _CJK_WORD.fullmatch(term) and len(sounds) == len(term):
                extra[term] = max(GLOSSARY_FREQ, int(freq.get(term) or 0))
                by_sound.setdefault(fuzzy_key(sounds), []).append(term)
        return cls(extra, {key: tuple(terms) for key, terms in by_sound.items()})

    @staticmethod
    def warm_up() -> None:
        """Load the dictionary and build the sound index now (the worker calls this at start)."""
        _sound_index()

    def frequency(self, word: str) -> int:
        return self.extra.get(word) or word_frequency(word)

    def _run_logprob(self, run: str) -> float:
        """Max over segmentations of the sum of word log-probabilities (jieba's own criterion);
        a character missing from the dictionary counts once."""
        _, log_total = _general_dictionary()
        best = [0.0] * (len(run) + 1)
        for end in range(len(run) - 1, -1, -1):
            options = []
            for length in range(1, min(MAX_WORD, len(run) - end) + 1):
                count = self.frequency(run[end : end + length])
                if count or length == 1:
                    options.append(math.log(count or 1) - log_total + best[end + length])
            best[end] = max(options)
        return best[0]

    def segment(self, run: str) -> list[str]:
        """The most likely words of a run of Chinese characters, by the same criterion as
        ``logprob``: what the sentence most plausibly says, which corrections must respect."""
        _, log_total = _general_dictionary()
        best: list[tuple[float, int]] = [(0.0, 0)] * (len(run) + 1)
        for end in range(len(run) - 1, -1, -1):
            options = []
            for length in range(1, min(MAX_WORD, len(run) - end) + 1):
                count = self.frequency(run[end : end + length])
                if count or length == 1:
                    options.append((math.log(count or 1) - log_total + best[end + length][0], length))
            best[end] = max(options)
        words, i = [], 0
        while i < len(run):
            words.append(run[i : i + best[i][1]])
            i += best[i][1]
        return words

    def logprob(self, text: str) -> float:
        """Unigram log-probability of the Chinese in ``text`` (other characters are ignored)."""
        return sum(self._run_logprob(run) for run in CJK_RUN.findall(text))

    def sounds_alike(self, span: str) -> list[str]:
        """Common words that sound like ``span`` (fuzzily), most frequent first, ``span`` excluded."""
        sounds = syllables(span)
        if len(sounds) != len(span):
            return []
        key = fuzzy_key(sounds)
        found = [*self.extra_by_sound.get(key, ()), *(word for word, _ in _sound_index().get(key, ()))]
        return [word for word in dict.fromkeys(found) if word != span]
