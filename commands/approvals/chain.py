"""The approval chain grammar: who approves, in which order, and how each step decides.

A chain is a list of mentions joined by operators, read after mentions became full Matrix IDs
(`bot.mentions.text_with_ids`):

    @chu > @fu & @zheng > @shuji      three steps; the second is 会签 (all must approve)
    @a | @b                           one 或签 step (any one of them decides)

`>` starts the next step, `&` adds someone to a 会签 step, `|` to a 或签 step. Full-width
forms (＞ ＆ ｜) and `→` are accepted because Chinese input methods produce them. Mixing `&` and
`|` in one step is ambiguous and refused rather than guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from records.errors import DomainError
from timeparse.budget import bounded, check

ALL = "all"  # 会签: every member of the step must approve
ANY = "any"  # 或签: the first member to approve decides the step

_MXID = r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?"
_TOKEN = re.compile(rf"\s*(?:(?P<user>{_MXID})|(?P<op>[>＞→&＆|｜])|(?P<other>[^\s>＞→&＆|｜]+))")
_OPS = {"＞": ">", "→": ">", "＆": "&", "｜": "|"}
# Where a chain starts inside "title + chain": the first mention or operator.
_CHAIN_START = re.compile(rf"{_MXID}|[>＞→&＆|｜]")

MAX_STEPS = 20
MAX_PER_STEP = 20


class ChainError(DomainError):
    """A chain that cannot be read; the key names the problem for a bilingual answer."""


@dataclass(frozen=True)
class StepSpec:
    """One step as given: its members in order, how they decide, and an optional name (核稿)."""

    members: tuple[str, ...]
    mode: str = ALL
    name: str = ""
    # A drafter step (拟稿) is done by the requester when the approval starts; nobody decides it.
    drafter: bool = False
    extra: dict[str, str] = field(default_factory=dict, compare=False)


def split_title_chain(text: str) -> tuple[str, str]:
    """Split "关于…的请示 @a > @b" into the title and the chain text (either may be empty)."""
    match = _CHAIN_START.search(text)
    if match is None:
        return text.strip(), ""
    return text[: match.start()].strip(), text[match.start() :].strip()


@bounded
def parse_chain(text: str) -> list[StepSpec]:
    """Read a chain into steps; raise ChainError with a precise key on anything malformed.

    One pass over the tokens; a chain longer than MAX_STEPS is refused as soon as it is seen.
    """
    text = text.strip()
    if not text:
        raise ChainError("approval.chain_empty")
    steps: list[StepSpec] = []
    members: list[str] = []
    mode: str | None = None  # the joining operator seen in the current step
    expect_user = True
    pos = 0
    while pos < len(text):
        check()
        match = _TOKEN.match(text, pos)
        if match is None:  # only trailing blanks are left
            break
        pos = match.end()
        if match.group("other") is not None:
            raise ChainError("approval.chain_bad_token", token=match.group("other")[:40])
        if match.group("user") is not None:
            if not expect_user:
                raise ChainError("approval.chain_missing_op", user=match.group("user"))
            members.append(match.group("user"))
            if len(members) > MAX_PER_STEP and len(set(members[-MAX_PER_STEP * 2 :])) > MAX_PER_STEP:
                # Past the limit already: no need to read on (the full check is in _step).
                raise ChainError("approval.step_too_big", limit=MAX_PER_STEP)
            expect_user = False
            continue
        op = _OPS.get(match.group("op"), match.group("op"))
        if expect_user:
            raise ChainError("approval.chain_dangling", op=op)
        if op == ">":
            steps.append(_step(members, mode))
            if len(steps) >= MAX_STEPS:  # a further step would make one too many
                raise ChainError("approval.chain_too_long", limit=MAX_STEPS)
            members, mode = [], None
        else:
            joined = ALL if op == "&" else ANY
            if mode is not None and mode != joined:
                raise ChainError("approval.chain_mixed")
            mode = joined
        expect_user = True
    if expect_user:
        if not steps and not members:
            raise ChainError("approval.chain_empty")
        raise ChainError("approval.chain_dangling", op=text.rstrip()[-1])
    steps.append(_step(members, mode))
    if len(steps) > MAX_STEPS:
        raise ChainError("approval.chain_too_long", limit=MAX_STEPS)
    return steps


def _step(members: list[str], mode: str | None) -> StepSpec:
    unique = tuple(dict.fromkeys(members))
    if len(unique) > MAX_PER_STEP:
        raise ChainError("approval.step_too_big", limit=MAX_PER_STEP)
    return StepSpec(members=unique, mode=mode or ALL)


def check_not_self(steps: list[StepSpec], requester: str) -> None:
    """Self-approval is refused: the requester may not sit in their own chain (except as drafter)."""
    for step in steps:
        if not step.drafter and requester in step.members:
            raise ChainError("approval.self_approval")


def chain_people(steps: list[StepSpec]) -> list[str]:
    """Everyone who decides something, in order of appearance."""
    return list(dict.fromkeys(u for s in steps if not s.drafter for u in s.members))


def describe(steps: list[StepSpec]) -> str:
    """The chain written back in its own grammar (for echoing what was understood)."""
    parts = []
    for step in steps:
        joiner = " & " if step.mode == ALL else " | "
        parts.append(joiner.join(step.members))
    return " > ".join(parts)
