"""The office's correction memory: what people corrected once, fixed for everyone afterwards.

When someone replaces a transcript with what they really said, the two texts are compared
character by character (difflib) and each changed span becomes a pair *misheard → right*
(蓄暴 → 续报). The feature counts how often each pair was confirmed; pairs confirmed often
enough (or by an admin) are handed to the pipeline as a ``CorrectionMemory``, the last pass.

Do no harm, as for the other passes:

* a span is learnt with at least two Chinese characters on the misheard side (one character has
  too many homophones: 港 → 岗 would break every port), taking unchanged neighbours as context;
* a misheard span that is itself a real word is learnt with one neighbour more on each side,
  so that it is only replaced in the phrase where it was wrong (相应, 到港 alone are real words);
* a rewrite (less than half the characters kept) teaches nothing: it is a new sentence;
* a two-character span is never replaced where it would cut a word of the sentence in two
  (后请 -> 后勤 is right in 今天后请假 only by accident, and wrong in 会后请把签名册交给我);
* a span of three characters or more that sounds exactly like a remembered misheard span
  (toneless pinyin) is replaced too, unless it is a dictionary word, a name or glossary term, has
  a name's shape (市门镇), holds a common word the misheard spelling lacks (县防治 for 县防止), or
  cuts a word: the same word is misheard in a different spelling by each voice and channel. Only
  pairs several people confirmed match by sound, and a sound whose pairs disagree matches none;
* a misheard span that is a protected name or glossary term is never learnt nor replaced, no
  replacement may overlap a protected name that occurs in the text, and a real word its context
  makes likely (voice.postprocess.IN_CONTEXT: a ship 到港) is left alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

#: One Chinese character (the memory learns and replaces Chinese spans only).
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]+")
#: Fewest characters on the misheard side of a learnt pair.
MIN_HEARD = 2
#: Fewest characters of a span replaced because it sounds like a remembered one (``_by_sound``).
MIN_SOUND_MATCH = 3
#: A word of the sentence this frequent (jieba's counts) inside a span that sounds like a
#: remembered one is what was said (防治 1521, 防止 3364), not a mishearing: rarer "words" are what
#: a mishearing is made of (冲锋 333 in 冲锋中 for 冲锋舟, 现房 17 in 现房指 for 县防指).
COMMON_WORD_FREQ = 1000
#: Longest misheard side: a longer change is a rephrasing, not a misheard word.
MAX_HEARD = 8
#: Changes closer than this (unchanged characters between them) are one span: 蓄暴信息 -> 续报信息.
MERGE_GAP = 1
#: Below this share of characters kept, the correction is a rewrite and teaches nothing.
MIN_KEPT = 0.5
#: A misheard span this frequent (jieba's counts) is a real word: it is learnt with context.
#: Any dictionary word counts: 到港 is rare in jieba's counts but right wherever a ship arrives.
REAL_WORD_FREQ = 1


@dataclass(frozen=True)
class Pair:
    """One learnt correction: ``heard`` was transcribed where ``right`` was said."""

    heard: str
    right: str
    #: Whether other spellings of the same sound are fixed too (``_by_sound``): one person's
    #: correction (an admin's included) puts the exact pair in force, but it takes the agreement
    #: of several before every homophone spelling follows it.
    by_sound: bool = True


def _frequency(word: str) -> int:
    from voice.lexicon import word_frequency

    return word_frequency(word)


def _is_cjk(text: str) -> bool:
    return bool(text) and all(_CJK.fullmatch(ch) for ch in text)


def _grow(a: str, b: str, span: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """Widen a change by one unchanged neighbour, left first; None when there is none (the
    characters just outside the span are equal on both sides, as difflib's opcodes guarantee
    for an isolated change)."""
    i1, i2, j1, j2 = span
    if i1 > 0 and j1 > 0 and a[i1 - 1] == b[j1 - 1] and _CJK.fullmatch(a[i1 - 1]):
        return i1 - 1, i2, j1 - 1, j2
    if i2 < len(a) and j2 < len(b) and a[i2] == b[j2] and _CJK.fullmatch(a[i2]):
        return i1, i2 + 1, j1, j2 + 1
    return None


def _widen_both(a: str, b: str, span: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    i1, i2, j1, j2 = span
    left = i1 > 0 and j1 > 0 and a[i1 - 1] == b[j1 - 1] and _CJK.fullmatch(a[i1 - 1])
    right = i2 < len(a) and j2 < len(b) and a[i2] == b[j2] and _CJK.fullmatch(a[i2])
    if not (left or right):
        return None
    return (i1 - 1 if left else i1, i2 + 1 if right else i2, j1 - 1 if left else j1, j2 + 1 if right else j2)


def _whole_words(a: str, b: str, span: tuple[int, int, int, int], cuts: _WordCuts) -> tuple[int, int, int, int] | None:
    """A two-character span that cuts a word of the heard sentence (石乔 in 青石/乔/村) widened to
    that word's unchanged characters (青石乔): a short span is only replaced where it cuts no
    word, so it would never apply where it was learnt. None when the word's other characters
    changed too."""
    i1, i2, j1, j2 = span
    if not cuts(i1, i2):
        return span
    for w_start, w_end, word in cuts.words():
        if len(word) < 2:
            continue
        if w_start < i1 < w_end:
            grow = i1 - w_start
            if j1 - grow < 0 or a[w_start:i1] != b[j1 - grow : j1]:
                return None
            i1, j1 = w_start, j1 - grow
        if w_start < i2 < w_end:
            grow = w_end - i2
            if a[i2:w_end] != b[j2 : j2 + grow]:
                return None
            i2, j2 = w_end, j2 + grow
    return i1, i2, j1, j2


# Longer texts teach nothing (see learn).
MAX_LEARNT_TEXT = 1000


def learn(heard: str, right: str, protected: Iterable[str] = ()) -> list[Pair]:
    """The pairs a correction of ``heard`` into ``right`` teaches (none for a rewrite)."""
    if heard == right or not heard or not right:
        return []
    if max(len(heard), len(right)) > MAX_LEARNT_TEXT:
        # The diff is quadratic in the worst case; a voice message's transcript is far shorter,
        # and a text this long is a rewrite, not a correction of what was misheard.
        return []
    matcher = difflib.SequenceMatcher(None, heard, right, autojunk=False)
    kept = sum(block.size for block in matcher.get_matching_blocks())
    if kept < MIN_KEPT * max(len(heard), len(right)):
        return []
    # Changes separated by at most MERGE_GAP unchanged characters are one misheard phrase.
    groups: list[list[int]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if groups and i1 - groups[-1][1] <= MERGE_GAP and j1 - groups[-1][3] <= MERGE_GAP:
            groups[-1][1], groups[-1][3] = i2, j2
        else:
            groups.append([i1, i2, j1, j2])
    names = frozenset(protected)
    cuts = _WordCuts(heard, names)
    pairs: list[Pair] = []
    for i1, i2, j1, j2 in groups:
        span: tuple[int, int, int, int] | None = (i1, i2, j1, j2)
        while span is not None and len(heard[span[0] : span[1]]) < MIN_HEARD:
            span = _grow(heard, right, span)
        if span is not None and _frequency(heard[span[0] : span[1]]) >= REAL_WORD_FREQ:
            span = _widen_both(heard, right, span)
        if span is not None and span[1] - span[0] <= MIN_HEARD:
            span = _whole_words(heard, right, span, cuts)
        if span is None:
            continue
        wrong, said = heard[span[0] : span[1]], right[span[2] : span[3]]
        if not (_is_cjk(wrong) and _is_cjk(said)) or len(wrong) > MAX_HEARD:
            continue  # punctuation, Latin or a long rephrasing: not a misheard word
        if any(wrong in name or name in wrong for name in names if len(name) >= MIN_HEARD):
            continue  # a protected name is never "misheard" by the memory
        pairs.append(Pair(wrong, said))
    return pairs


class _WordCuts:
    """Whether a span would cut a dictionary word of the text in two (the text segmented by the
    correction passes' lexicon, lazily: most texts have no remembered span at all)."""

    def __init__(self, text: str, names: Iterable[str]) -> None:
        self.text, self.names = text, tuple(names)
        self._words: list[tuple[int, int, str]] | None = None

    def words(self) -> list[tuple[int, int, str]]:
        """(start, end, word) of the text's words, Chinese runs only."""
        if self._words is None:
            from voice.postprocess import lexicon_for

            lexicon = lexicon_for(self.names)
            self._words = []
            for run in _CJK_RUN.finditer(self.text):
                offset = run.start()
                for w_start, w_end, word in _spans(lexicon.segment(run.group(0))):
                    self._words.append((offset + w_start, offset + w_end, word))
        return self._words

    def holds_other_word(self, start: int, end: int, heard: str) -> bool:
        """True if [start, end) holds a common word of the sentence, two characters or more, that
        the misheard spelling ``heard`` lacks: the span then says a word of its own (县防治 holds
        防治, 县防止 does not), not the mishearing a pair corrects."""
        from voice.lexicon import word_frequency

        return any(
            start <= w_start
            and w_end <= end
            and w_end - w_start >= 2
            and word not in heard
            and word_frequency(word) >= COMMON_WORD_FREQ
            for w_start, w_end, word in self.words()
        )

    def __call__(self, start: int, end: int) -> bool:
        from voice.rescore import cuts_word

        return cuts_word(self.words(), start, end)


def _spans(words: list[str]) -> list[tuple[int, int, str]]:
    from voice.rescore import word_spans

    return word_spans(words)


@dataclass(frozen=True)
class CorrectionMemory:
    """The pairs in force (misheard → right), applied longest first."""

    pairs: tuple[Pair, ...] = ()

    @classmethod
    def of(cls, pairs: Mapping[str, str] | Iterable[Pair]) -> CorrectionMemory:
        items = [Pair(k, v) for k, v in pairs.items()] if isinstance(pairs, Mapping) else list(pairs)
        return cls(tuple(sorted(items, key=lambda p: (-len(p.heard), p.heard))))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def apply(self, text: str, protected: Iterable[str] = ()) -> str:
        """``text`` with each remembered misheard span replaced, unless it is (or overlaps) a
        protected name or glossary term as it occurs in the text."""
        if not self.pairs or not text:
            return text
        names = [n for n in protected if len(n) >= MIN_HEARD]
        guarded = [False] * len(text)
        for name in names:
            for match in re.finditer(re.escape(name), text):
                for k in range(match.start(), match.end()):
                    guarded[k] = True
        edits: list[tuple[int, int, str]] = []
        taken = [False] * len(text)
        from voice.postprocess import IN_CONTEXT

        cuts = _WordCuts(text, names)
        for pair in self.pairs:
            if pair.heard in names or any(cue in text for cue in IN_CONTEXT.get(pair.heard, ())):
                continue  # a name, or a real word its context makes likely (a ship 到港)
            for match in re.finditer(re.escape(pair.heard), text):
                span = range(match.start(), match.end())
                if any(guarded[k] or taken[k] for k in span):
                    continue
                if len(pair.heard) <= MIN_HEARD and cuts(match.start(), match.end()):
                    continue  # 后请 -> 后勤 must not turn 会后请把 into 会后勤把
                for k in span:
                    taken[k] = True
                edits.append((match.start(), match.end(), pair.right))
        for start, end, replacement in sorted(edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        return self._by_sound(text, names)

    def _by_sound(self, text: str, names: list[str]) -> str:
        """Spans that sound exactly like a remembered misheard span (same toneless pinyin) but are
        spelt another way: the same word is misheard differently by each voice and channel (县防指
        came out five ways), so exact pairs rarely recur. Stricter than the exact match: three
        characters at least (two syllables have too many homophones), never a dictionary word, a
        glossary term or a name-shaped span, never cutting a word of the sentence nor holding a
        common word the misheard spelling lacks; only pairs confirmed by several people
        (``Pair.by_sound``), and no sound whose pairs disagree on the right spelling."""
        from voice.lexicon import syllables, word_frequency
        from voice.rescore import name_shaped, touches_said

        by_sound: dict[tuple[str, ...], Pair] = {}
        disputed: set[tuple[str, ...]] = set()
        for pair in self.pairs:
            if pair.by_sound and len(pair.heard) == len(pair.right) >= MIN_SOUND_MATCH and _is_cjk(pair.heard):
                key = tuple(syllables(pair.heard))
                if by_sound.setdefault(key, pair).right != pair.right:
                    disputed.add(key)  # two pairs disagree on what this sound should be: neither wins
        for key in disputed:
            del by_sound[key]
        if not by_sound:
            return text
        lengths = sorted({len(key) for key in by_sound}, reverse=True)
        cuts = _WordCuts(text, names)
        edits: list[tuple[int, int, str]] = []
        for match in _CJK_RUN.finditer(text):
            run, offset = match.group(0), match.start()
            sounds = syllables(run)
            if len(sounds) != len(run):
                continue
            i = 0
            while i < len(run):
                for length in lengths:
                    span = run[i : i + length]
                    like = by_sound.get(tuple(sounds[i : i + length])) if len(span) == length else None
                    if like is None or like.right == span or word_frequency(span) or _named(span, names):
                        continue
                    if cuts.holds_other_word(offset + i, offset + i + length, like.heard) or name_shaped(span):
                        continue  # 县防治 holds 防治, which 县防止 lacks; 市门镇 is a town's name
                    right = like.right
                    if touches_said(run, i, i + length) or cuts(offset + i, offset + i + length):
                        continue
                    edits.append((offset + i, offset + i + length, right))
                    i += length
                    break
                else:
                    i += 1
        for start, end, replacement in sorted(edits, reverse=True):
            text = text[:start] + replacement + text[end:]
        return text


def _named(span: str, names: list[str]) -> bool:
    return any(span in name or name in span for name in names)
