"""The command grammar shared by every feature: sub-commands, near misses and their answers.

A command with sub-commands (`!审批 发起 …`, `!会议 改期 M3 …`) declares them once, in its
`Command` spec, as `Sub`s. The framework reads the first word of the arguments:

- a known sub-command (name or alias, zh or en) → that sub-command;
- a record id alone (A12, M3…) or a word the feature declares as its own (a template name) →
  the handler reads it as it always did (the id shorthand for "show", a template);
- a word that looks like an attempt at a sub-command — close to one by spelling, or a short
  word followed by a record id ("删除 A1") — or any unknown word where the command has no
  default → refused with the list of sub-commands (and a "did you mean" when one is close);
- anything else is the default sub-command's text (a title, for commands whose default is `new`).

A refusal is never a record: the filter does not take the message and the dispatcher answers.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# A record id as the features print them: A12, M3, T7, E5, R12, O4.
RECORD_ID = re.compile(r"^[A-Za-z]\d+$")
# A word short enough to be a sub-command (sub-command words are 2–4 characters in Chinese,
# one English word): a title written without `发起` is a phrase, not a lone short word.
_SHORT_WORD = re.compile(r"^(?:[\u4e00-\u9fff]{1,4}|[A-Za-z][A-Za-z-]{1,15})$")
_CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Sub:
    """One sub-command: its canonical (English) name and the words that invoke it."""

    name: str
    aliases: tuple[str, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def shown(self, lang: str) -> str:
        """The word to show in a list: the first Chinese alias in zh, the name in en."""
        if lang == "en":
            return self.name
        return next((a for a in self.aliases if _CJK.search(a)), self.name)


@dataclass(frozen=True)
class SubChoice:
    """How a command's arguments were read.

    `sub` is the canonical sub-command name, or None when no sub-command word was given (the
    handler applies its default: a title, an id shorthand, a list…). `refused` is the word that
    looked like a sub-command attempt but is none; `close` is the sub-command it is close to.
    """

    sub: str | None
    args: str
    refused: str | None = None
    close: Sub | None = None


@dataclass(frozen=True)
class SubTable:
    """The sub-commands of one command, and what text without one means.

    `default` is the sub-command that text without a sub-command word is given to ("new":
    the text is a title); None means such text is refused unless it is a record id.
    """

    subs: tuple[Sub, ...]
    default: str | None = None
    ids: bool = True  # a record id alone is the handler's own shorthand (show)
    _index: dict[str, Sub] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for sub in self.subs:
            for word in sub.words:
                self._index[word.lower()] = sub

    def find(self, word: str) -> Sub | None:
        return self._index.get(word.lower())

    def words_of(self, name: str) -> frozenset[str]:
        """Every word of one sub-command, lower-cased: for a handler's own reading."""
        return frozenset(w.lower() for sub in self.subs if sub.name == name for w in sub.words)

    def choose(self, args: str, known: Iterable[str] = ()) -> SubChoice:
        text = args.strip()
        word, _, rest = text.partition(" ")
        if not word:
            return SubChoice(None, "")
        sub = self.find(word)
        if sub is not None:
            return SubChoice(sub.name, rest.strip())
        if word in set(known) or (self.ids and RECORD_ID.match(word)):
            return SubChoice(None, text)
        close = self.closest(word)
        if close is not None or self.default is None or _before_an_id(word, rest):
            return SubChoice(None, text, refused=word, close=close)
        return SubChoice(self.default, text)

    def closest(self, word: str) -> Sub | None:
        """The sub-command `word` is a misspelling of, if any."""
        found = closest_word(word, list(self._index))
        return self._index[found] if found is not None else None

    def listing(self, lang: str) -> str:
        return "、".join(s.shown(lang) for s in self.subs) if lang != "en" else ", ".join(s.name for s in self.subs)


def _before_an_id(word: str, rest: str) -> bool:
    """ "删除 A1", "delete M3": a short word followed by a record id is an action on that record."""
    following = rest.split(None, 1)
    return bool(_SHORT_WORD.match(word) and following and RECORD_ID.match(following[0]))


def near(word: str, candidate: str) -> bool:
    """Whether `word` reads as a slip of `candidate`.

    Chinese command words are two to four characters, so "one character off" is a near miss
    (审核 → 审批, 批发 → 发起: same length ±1, a character in common, half the text alike); an
    English word is near when it is spelled three-quarters alike (shw → show, aprove → approve).
    """
    w, c = word.lower(), candidate.lower()
    if w == c:
        return True
    ratio = difflib.SequenceMatcher(None, w, c).ratio()
    if _CJK.search(w) or _CJK.search(c):
        return abs(len(w) - len(c)) <= 1 and bool(set(w) & set(c)) and ratio >= 0.5
    return len(w) >= 3 and ratio >= 0.75


def closest_word(word: str, candidates: Sequence[str]) -> str | None:
    """The candidate `word` is nearest to, among those it is `near`; None when none is."""
    # Ties (审核 is as near 审批 as 核查 would be) go to the candidate that starts the same way:
    # a slip is more often in a later character than in the first.
    scored = [
        (difflib.SequenceMatcher(None, word.lower(), c.lower()).ratio(), _common_prefix(word, c), c)
        for c in candidates
        if near(word, c)
    ]
    return max(scored)[2] if scored else None


def _common_prefix(a: str, b: str) -> int:
    return sum(1 for _ in itertools.takewhile(lambda pair: pair[0] == pair[1], zip(a.lower(), b.lower(), strict=False)))


def ranked(word: str, candidates: Sequence[str], n: int = 3) -> list[str]:
    """The `n` candidates most alike `word` (by shared characters), best first; for a DM."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, word.lower(), c.lower()).ratio(), c) for c in candidates),
        key=lambda pair: -pair[0],
    )
    return [c for score, c in scored[:n] if score > 0]


TEXTS = {
    "error.unknown_sub": {
        "zh": "⚠️ {prefix}{command} 没有子命令“{word}”。可用的子命令：{subs}。",
        "en": "⚠️ {prefix}{command} has no sub-command “{word}”. Its sub-commands: {subs}.",
    },
    "error.did_you_mean_sub": {
        "zh": "您是不是想用 {prefix}{command} {sub}？",
        "en": "Did you mean {prefix}{command} {sub}?",
    },
    "error.bad_arguments": {
        "zh": "⚠️ {prefix}{name} 缺少参数或参数不对。",
        "en": "⚠️ {prefix}{name} is missing something, or its arguments are not right.",
    },
    "error.closest_commands": {
        "zh": "相近的命令：{names}",
        "en": "Closest commands: {names}",
    },
    "help.subcommands": {"zh": "子命令：{subs}", "en": "Sub-commands: {subs}"},
    "greeting": {
        "zh": "您好，我是值班助手。发送 !帮助 查看全部命令，!帮助 <命令> 查看用法。",
        "en": "Hello, I am the duty assistant (Zhiban). Send !help for the commands, !help <command> for one's usage.",
    },
}
