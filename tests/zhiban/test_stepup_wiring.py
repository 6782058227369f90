"""What a confirmed step-up request of a kind this version does not know answers: a reason in
the person's language (the page shows it as is), and nothing decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from records.clock import FrozenClock
from records.db import Database
from records.stepup import StepUpRequest
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
    assert why is not None and expected in why and "retired-kind" not in why
