"""Text normalisation in front of the grammars, keeping a map back to the original.

Two jobs: NFKC (full-width digits and colons, ``１０：３０`` -> ``10:30``) and
Chinese numerals -> Arabic digits (``三天后`` -> ``3天后``, ``八点半`` -> ``8点半``)
using cn2an. The grammars match the normalised text, but the caller must cut
the *original* text (the reminder's message is the user's own words), so every
normalised character remembers where it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Runs of Chinese numeral characters are read; 两 is the colloquial 2 (两点, 两天).
# A numeral run is converted only when it is a count or a clock/calendar value:
# followed by a unit, or standing right after 点/时 (the minutes of 三点二十).
_UNIT_AFTER = re.compile(r"\s*(?:个|點|点|時|时|天|日|号|號|月|小时|钟头|分|秒|周|星期|礼拜|禮拜|年|刻|:)")
_CLOCK_BEFORE = ("点", "點", "时", "時")
# Only the runs that may be converted, found by one linear scan: a whole run (never its tail:
# the look-behind) followed by a unit, or a run right after 点/时. Numerals that are neither
# ("三十x", a name) cost nothing more, however many a long message has.
_CANDIDATE_RUN = re.compile(
    r"(?<![零〇一二两三四五六七八九十百])[零〇一二两三四五六七八九十百]++"
    r"(?=\s*+(?:个|點|点|時|时|天|日|号|號|月|小时|钟头|分|秒|周|星期|礼拜|禮拜|年|刻|:))"
    r"|(?<=[点點时時])[零〇一二两三四五六七八九十百]++"
)
# After these, 一..七/日/天 are weekday names (周一, 星期天), never numbers.
_WEEKDAY_MARKERS = ("周", "星期", "礼拜", "禮拜")
_DIGIT_CHARS = {"零": "0", "〇": "0", "一": "1", "二": "2", "两": "2", "三": "3", "四": "4",
                "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}  # fmt: skip


@dataclass(frozen=True)
class Normalized:
    """``text`` is what the grammars see; ``origin[i]`` is the index in the original text
    of normalised character ``i``, with one extra entry for the end of the text."""

    text: str
    origin: tuple[int, ...]

    def original_end(self, end: int) -> int:
        """Index in the original text just after normalised position ``end`` (exclusive)."""
        return self.origin[end]


@lru_cache(maxsize=1)
def _cn2an():  # type: ignore[no-untyped-def]
    """cn2an takes ~70 ms to import: load it on the first Chinese numeral, not at start-up."""
    import cn2an

    return cn2an.cn2an


# No count or date in chat needs more numeral characters (九千九百九十九 is 7); longer runs
# are left as they are rather than handed to cn2an.
_MAX_RUN = 16


@lru_cache(maxsize=4096)
def _to_arabic(run: str) -> str | None:
    """Convert one numeral run, or None when it is not a number (e.g. a stray 百).

    Cached: cn2an takes ~20 µs a run, and a meeting's text is read at many positions."""
    if len(run) > _MAX_RUN:
        return None
    if len(run) > 1 and all(ch in _DIGIT_CHARS for ch in run) and run[0] not in "两":
        # Digit by digit, as in years: 二〇二六 -> 2026 (cn2an would refuse it).
        if len(run) >= 3:
            return "".join(_DIGIT_CHARS[ch] for ch in run)
    try:
        value = _cn2an()(run, "smart")
    except (ValueError, KeyError):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return str(int(value))


def _convert_numerals(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in _CANDIDATE_RUN.finditer(text):
        start, end = m.start(), m.end()
        run = m.group()
        # 周五十点 = 周五 + 十点: the first character after a weekday marker is the weekday.
        if text.endswith(_WEEKDAY_MARKERS, 0, start):
            start += 1
            run = run[1:]
        if not run:
            continue
        followed = _UNIT_AFTER.match(text, end) is not None
        after_clock = start > 0 and text[start - 1] in _CLOCK_BEFORE
        converted = _to_arabic(run) if (followed or after_clock) else None
        if converted is None:
            continue
        out.append(text[pos:start])
        origin.extend(range(pos, start))
        out.append(converted)
        origin.extend([start] * len(converted))
        pos = end
    out.append(text[pos:])
    origin.extend(range(pos, len(text)))
    origin.append(len(text))
    return "".join(out), origin


def normalize(text: str) -> Normalized:
    """NFKC per character, then Chinese numerals to digits; keeps the origin map."""
    if text.isascii():
        # Nothing to fold and no Chinese numerals: the common English case, at C speed.
        return Normalized(text, tuple(range(len(text) + 1)))
    if unicodedata.is_normalized("NFKC", text):
        # Folding character by character would change nothing: skip the Python loop.
        converted, conv_origin = _convert_numerals(text)
        return Normalized(converted, tuple(conv_origin))
    chars: list[str] = []
    nfkc_origin: list[int] = []
    for i, ch in enumerate(text):
        folded = unicodedata.normalize("NFKC", ch)
        chars.append(folded)
        nfkc_origin.extend([i] * len(folded))
    nfkc_origin.append(len(text))
    nfkc = "".join(chars)
    converted, conv_origin = _convert_numerals(nfkc)
    origin = tuple(nfkc_origin[j] for j in conv_origin)
    return Normalized(converted, origin)
