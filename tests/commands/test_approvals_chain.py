"""The approval chain grammar: > steps, & 会签, | 或签, and every malformed chain refused clearly."""

from __future__ import annotations

import pytest

from bot.mentions import text_with_ids
from commands.approvals.chain import (
    ALL,
    ANY,
    ChainError,
    StepSpec,
    check_not_self,
    describe,
    parse_chain,
    split_title_chain,
)
from commands.approvals.texts import TEXTS

A, B, C, D = (f"@{n}:localhost" for n in ("a", "b", "c", "d"))


def test_sequence_of_single_people() -> None:
    steps = parse_chain(f"{A} > {B} > {C}")
    assert [s.members for s in steps] == [(A,), (B,), (C,)]
    assert all(s.mode == ALL for s in steps)


def test_all_and_any_steps() -> None:
    steps = parse_chain(f"{A} > {B} & {C} > {D} | {A}")
    assert steps[1] == StepSpec((B, C), ALL)
    assert steps[2] == StepSpec((D, A), ANY)
    assert describe(steps) == f"{A} > {B} & {C} > {D} | {A}"


def test_full_width_operators_and_no_spaces() -> None:
    steps = parse_chain(f"{A}＞{B}＆{C}→{D}｜{A}")
    assert [s.mode for s in steps] == [ALL, ALL, ANY]
    assert steps[1].members == (B, C)


def test_after_mentions_become_ids() -> None:
    """Short names and pills both end up as full IDs before parsing."""
    html = '<a href="https://matrix.to/#/@chu-1-ab:localhost">处长</a> &gt; @fu &amp; @zheng'
    text = text_with_ids("处长 > @fu & @zheng", html, "localhost")
    steps = parse_chain(text)
    assert steps == [StepSpec(("@chu-1-ab:localhost",)), StepSpec(("@fu:localhost", "@zheng:localhost"), ALL)]


def test_split_title_from_chain() -> None:
    title, chain = split_title_chain(f"关于防汛物资采购的请示 {A} > {B}")
    assert title == "关于防汛物资采购的请示"
    assert chain == f"{A} > {B}"
    assert split_title_chain("只有标题") == ("只有标题", "")
    assert split_title_chain(f"{A}") == ("", A)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "approval.chain_empty"),
        ("   ", "approval.chain_empty"),
        (f"{A} >> {B}", "approval.chain_dangling"),
        (f"{A} &", "approval.chain_dangling"),
        (f"{A} > ", "approval.chain_dangling"),
        (f"| {A}", "approval.chain_dangling"),
        (f"{A} & {B} | {C}", "approval.chain_mixed"),
        (f"{A} {B}", "approval.chain_missing_op"),
        (f"{A} > 张三", "approval.chain_bad_token"),
    ],
)
def test_malformed_chains_are_refused(text: str, key: str) -> None:
    with pytest.raises(ChainError) as caught:
        parse_chain(text)
    assert caught.value.key == key
    # Every refusal has a text in both languages that formats with its parameters.
    for lang in ("zh", "en"):
        assert TEXTS[key][lang].format(**caught.value.params)


def test_mixing_is_fine_across_steps() -> None:
    steps = parse_chain(f"{A} & {B} > {C} | {D}")
    assert [s.mode for s in steps] == [ALL, ANY]


def test_repeated_person_in_a_step_counts_once() -> None:
    assert parse_chain(f"{A} & {A} & {B}")[0].members == (A, B)


def test_self_approval_is_refused() -> None:
    steps = parse_chain(f"{B} > {A} | {C}")
    check_not_self(steps, D)
    with pytest.raises(ChainError) as caught:
        check_not_self(steps, A)
    assert caught.value.key == "approval.self_approval"
    # A drafter step (拟稿) is the requester's own and allowed.
    check_not_self([StepSpec((A,), drafter=True), *steps[:1]], A)
