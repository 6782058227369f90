"""Changes to one person's authenticators run one at a time (records.stepup.lock_person): an
admin's reset waits for a registration under way, and two removals at once cannot leave a
waiting 签发 with nothing to confirm it. PostgreSQL only: there these transactions run side by
side; SQLite's single writer already serialises them."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from records import stepup
from records.clock import FrozenClock
from records.db import Database
from records.stepup import PasskeyCredential, StepUpRequest
from tests.server.test_server_stepup_totp import SIGNER, T0, _office, _sign_in

# Long enough for a transaction that is not waiting to have finished on a loaded machine.
_SETTLE = 1.0


def _postgres_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's single writer serialises these transactions already")


def _passkey(n: int) -> PasskeyCredential:
    return PasskeyCredential(user_id=SIGNER, credential_id=f"cred-{n}", public_key=b"k", sign_count=0, created_at=T0)


async def _open(session: AsyncSession, kind: str, step: str, clock: FrozenClock) -> None:
    await stepup.open_request(
        session,
        user_id=SIGNER,
        kind=kind,
        record_id=1,
        subject="A1",
        title="",
        step=step,
        step_position=1,
        opinion="",
        lang="zh",
        minutes=10,
        clock=clock,
    )


async def test_a_reset_removes_a_passkey_registered_while_it_ran(database_url: str) -> None:
    _postgres_only(database_url)
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            session.add(_passkey(1))

        async def reset() -> list[str]:
            async with db.transaction() as session:
                removed, _totp = await stepup.reset_factors(session, SIGNER)
                return removed

        # A registration under way (as /security/passkey does it): the person's lock, then its row.
        async with db.transaction() as registering:
            await stepup.lock_person(registering, SIGNER)
            registering.add(_passkey(2))
            await registering.flush()
            resetting = asyncio.create_task(reset())
            await asyncio.sleep(_SETTLE)
            assert not resetting.done(), "the reset must wait for the registration under way"
        assert sorted(await resetting) == ["cred-1", "cred-2"]
        async with db.reading() as session:
            assert await stepup.passkeys_of(session, SIGNER) == []
    finally:
        await db.dispose()


async def test_two_removals_at_once_keep_the_last_authenticator_while_a_sign_off_waits(
    tmp_path: Path, database_url: str
) -> None:
    _postgres_only(database_url)
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await _sign_in(chat, client, SIGNER)
        async with chat.db.transaction() as session:
            session.add_all([_passkey(1), _passkey(2)])
            # A 签发 waits for the signer, and an enrolment confirmed a minute ago opens removal.
            await _open(session, "approval", "签发", clock)
            await _open(session, stepup.ENROL, "移除验证方式", clock)
            enrol = await session.scalar(select(StepUpRequest).where(StepUpRequest.kind == stepup.ENROL))
            assert enrol is not None
            enrol.used_at = T0 - timedelta(minutes=1)
        async with chat.db.reading() as session:
            first, second = [key.id for key in await stepup.passkeys_of(session, SIGNER)]

        # The first removal (from another tab) has removed its passkey and not yet committed.
        async with chat.db.transaction() as removing:
            await stepup.lock_person(removing, SIGNER)
            row = await removing.get(PasskeyCredential, first)
            assert row is not None
            await removing.delete(row)
            await removing.flush()
            other = asyncio.create_task(client.delete(f"/security/passkey/{second}"))
            await asyncio.sleep(_SETTLE)
            assert not other.done(), "the second removal must wait and then count what is left"
        answer = await other
        assert answer.status_code == 409 and answer.json()["error"] == "confirmation_waiting", answer.text
        async with chat.db.reading() as session:
            assert [key.id for key in await stepup.passkeys_of(session, SIGNER)] == [second]
