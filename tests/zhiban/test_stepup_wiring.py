"""What a confirmed step-up request answers when it cannot be done: a reason in both languages
(the page shows its Chinese and its English line), never a text key, and nothing decided."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest

from commands.approvals.handlers.confirm import KIND as APPROVAL
from records.clock import FrozenClock
from records.db import Database
from records.errors import DomainError, NotAllowed
from records.stepup import StepUpRequest
from zhiban import stepup_wiring as wiring
from zhiban.stepup_wiring import complete

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _request(lang: str) -> StepUpRequest:
    return StepUpRequest(
        token_hash="0" * 64,
        user_id="@sign:office.test",
        kind="retired-kind",
        record_id=7,
        subject="A7",
        step="签发",
        lang=lang,
        created_at=T0,
        expires_at=T0 + timedelta(minutes=10),
    )


@pytest.mark.parametrize(("lang", "expected"), [("zh", "无法完成"), ("en", "cannot be completed")])
async def test_an_unknown_kind_is_refused_in_the_persons_language(db: Database, lang: str, expected: str) -> None:
    async with db.transaction() as session:
        why = await complete(session, _request(lang), "totp", FrozenClock(T0))
    assert why is not None
    said = why.in_lang(lang)
    assert expected in said and "retired-kind" not in said


def _approval_request(lang: str) -> StepUpRequest:
    request = _request(lang)
    request.kind = APPROVAL
    return request


def _refusing(exc: DomainError) -> Callable[..., Awaitable[None]]:
    async def decide(*_args: object, **_kwargs: object) -> None:
        raise exc

    return decide


@pytest.mark.parametrize(
    ("lang", "expected"), [("zh", "找不到用户 @gone:office.test"), ("en", "No such user @gone:office.test")]
)
async def test_a_refusal_of_the_shared_layer_reads_as_text_not_as_its_key(
    db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, expected: str
) -> None:
    # A key of the ground floor (records.directory), whose text is not in the approvals catalog.
    monkeypatch.setattr(wiring.approvals, "decide", _refusing(DomainError("people.unknown", who="@gone:office.test")))
    async with db.transaction() as session:
        why = await complete(session, _approval_request(lang), "totp", FrozenClock(T0))
    assert why is not None
    said = why.in_lang(lang)
    assert said.startswith(expected) and "people.unknown" not in said


@pytest.mark.parametrize(("lang", "expected"), [("zh", "未能完成"), ("en", "could not be completed")])
async def test_a_refusal_with_no_text_anywhere_reads_as_a_generic_one_and_is_logged(
    db: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, lang: str, expected: str
) -> None:
    monkeypatch.setattr(wiring.approvals, "decide", _refusing(NotAllowed("somewhere.new_rule", code="A7")))
    with caplog.at_level(logging.WARNING, logger=wiring.__name__):
        async with db.transaction() as session:
            why = await complete(session, _approval_request(lang), "totp", FrozenClock(T0))
    assert why is not None
    said = why.in_lang(lang)
    assert expected in said and "somewhere.new_rule" not in said
    assert "somewhere.new_rule" in caplog.text, "the missing text is logged for the developers"


async def test_a_refusal_is_said_in_both_languages_whatever_the_request_language(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The /confirm page has a Chinese and an English line: a refusal fills each in its own
    language (it used to be one text, in the request's language, on both lines)."""
    monkeypatch.setattr(wiring.approvals, "decide", _refusing(DomainError("people.unknown", who="@gone:office.test")))
    for lang in ("zh", "en"):
        async with db.transaction() as session:
            why = await complete(session, _approval_request(lang), "totp", FrozenClock(T0))
        assert why is not None
        assert why.zh.startswith("找不到用户 @gone:office.test"), why
        assert why.en.startswith("No such user @gone:office.test"), why
