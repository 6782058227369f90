"""A confirmed close or declaration that is refused says why in the person's language, never
with a raw text key: a refusal from below the feature (records.directory's people.* keys) is
said from the framework's texts, and one with no text at all as a generic refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emergency import closing, confirm, incidents
from emergency.policy import Policy
from emergency.texts import TEXTS
from records.clock import FrozenClock
from records.db import Database
from records.errors import DomainError
from records.stepup import StepUpRequest

CLOCK = FrozenClock(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))
OFFICER = "@officer:hs"


async def _close_refused(db: Database, monkeypatch: pytest.MonkeyPatch, error: DomainError, lang: str) -> str | None:
    """Confirm the close of an open incident while closing it raises `error`."""

    async def refuse(*_args: object, **_kwargs: object) -> str:
        raise error

    monkeypatch.setattr(closing, "close", refuse)
    async with db.transaction() as session:
        people = incidents.People([], [OFFICER], [])
        incident = await incidents.declare(
            session, actor=OFFICER, grade=3, category=None, title="城东内涝", people=people,
            policy=Policy(), clock=CLOCK,
        )  # fmt: skip
        request = StepUpRequest(
            user_id=OFFICER, kind=confirm.CLOSE, record_id=incident.id, subject=incident.code, lang=lang,
            created_at=CLOCK.now(), expires_at=CLOCK.now() + timedelta(minutes=5), details={"origin": "!duty:hs"},
        )  # fmt: skip
        why = await confirm.complete_close(session, request, "totp", CLOCK)
        return why.in_lang(lang) if why is not None else None


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "王 不止一人：@wang1:hs、@wang2:hs。请用 @ 选择对方，或写完整的账号。"),
        ("en", "王 could be more than one person: @wang1:hs、@wang2:hs. Pick them with @, or write the full ID."),
    ],
)
async def test_a_refusal_from_below_the_feature_is_said_in_the_request_language(
    db: Database, monkeypatch: pytest.MonkeyPatch, lang: str, expected: str
) -> None:
    error = DomainError("people.ambiguous", who="王", choices="@wang1:hs、@wang2:hs")
    assert await _close_refused(db, monkeypatch, error, lang) == expected


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_refusal_with_no_text_reads_as_the_generic_one(
    db: Database, monkeypatch: pytest.MonkeyPatch, lang: str
) -> None:
    for error in (DomainError("records.no_such_text"), DomainError("em.incident.closed")):  # no text; no {id}
        why = await _close_refused(db, monkeypatch, error, lang)
        assert why == TEXTS["em.confirm.refused"][lang], why
