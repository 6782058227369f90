"""Guessing one-time codes across many confirmation links: each link locks after a few wrong
answers, and a person's wrong answers also count together, so a stolen session that keeps
asking for new links (adding an authenticator asks for one each time) cannot go on guessing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pyotp

from records.clock import FrozenClock
from server.stepup_routes import FAILURES_PER_PERSON
from tests.server.test_server_stepup_totp import SIGNER, T0, _enrol, _office, _sign_in


async def _new_link(client: httpx.AsyncClient) -> str:
    refused = await client.post("/security/passkey/options")
    assert refused.status_code == 403 and refused.json()["error"] == "confirm_first", refused.text
    return str(refused.json()["confirm"])


def _wrong(app: pyotp.TOTP, clock: FrozenClock, n: int) -> str:
    return str((int(app.at(clock.now())) + 7 + n) % 1_000_000).zfill(6)


async def test_wrong_codes_count_per_person_across_fresh_links(tmp_path: Path, database_url: str) -> None:
    clock = FrozenClock(T0)
    async with _office(tmp_path, database_url, clock) as (chat, client):
        await _sign_in(chat, client, SIGNER)
        app = await _enrol(client, clock)
        guesses = 0
        while guesses < FAILURES_PER_PERSON:
            link = await _new_link(client)
            for _ in range(3):  # under one link's own limit: the person's count stops it
                answer = await client.post(f"{link}/totp", json={"code": _wrong(app, clock, guesses)})
                guesses += 1
                if guesses >= FAILURES_PER_PERSON:
                    break
                assert answer.status_code == 403, answer.text

        # A new link now refuses even the right code, for everyone signed in as this person.
        clock.advance(timedelta(seconds=30))
        link = await _new_link(client)
        blocked = await client.post(f"{link}/totp", json={"code": app.at(clock.now())})
        assert blocked.status_code == 429 and blocked.json()["error"] == "too_many_failures", blocked.text
        assert (await client.post("/security/passkey/options")).status_code == 403

        # After an hour without wrong answers the person may confirm again.
        clock.advance(timedelta(hours=1))
        link = await _new_link(client)
        done = await client.post(f"{link}/totp", json={"code": app.at(clock.now())})
        assert done.status_code == 200, done.text
