"""`zhiban homeserver bootstrap` against a real Synapse with its stock rate limits: the bot's
account is registered once, exempted from the limits, and then writes to many people at once
where an ordinary account is refused."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
import pytest_asyncio
from typer.testing import CliRunner

from records.audit_seal import install
from tests.support.synapse import start_test_homeserver
from zhiban.cli import app
from zhiban.local.homeserver import LocalHomeserver

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def throttled(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalHomeserver]:
    """A Synapse with the rate limits an office's homeserver has out of the box."""
    hs = await start_test_homeserver(tmp_path_factory.mktemp("throttled"), stock_rate_limits=True)
    try:
        yield hs
    finally:
        await hs.stop()


@pytest.fixture(autouse=True)
def _unsealed_after() -> Iterator[None]:
    yield
    install(None)  # the bootstrap gave this process the audit key; the next test starts without


def _setup(tmp_path: Path, hs: LocalHomeserver, *, secret: str | None = None) -> tuple[Path, Path, str]:
    """A config for a bot not yet on `hs`, and a file with the homeserver's shared secret."""
    user = hs.user_id(f"zhiban-{uuid.uuid4().hex[:6]}")
    config = tmp_path / "zhiban.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[matrix]\nhomeserver = "{hs.base_url}"\nuser_id = "{user}"\n'
        'password = "bot-password"\n[voice]\nenabled = false\n',
        encoding="utf-8",
    )
    secret_file = tmp_path / "registration_shared_secret"
    secret_file.write_text((secret or hs.registration_shared_secret) + "\n", encoding="utf-8")
    return config, secret_file, user


async def _bootstrap(config: Path, secret_file: Path) -> tuple[int, str]:
    args = ["homeserver", "bootstrap", "--config", str(config), "--shared-secret-file", str(secret_file)]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    return result.exit_code, result.output


async def _admin(hs: LocalHomeserver, token: str, method: str, path: str) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.request(method, hs.base_url + path, headers=headers) as r:
        return r.status, await r.json(content_type=None)


def _audited(tmp_path: Path) -> list[tuple[str, str]]:
    import sqlite3

    with sqlite3.connect(tmp_path / "data" / "zhiban.db") as conn:
        rows = conn.execute("SELECT action, subject FROM audit_log ORDER BY seq").fetchall()
    return [(str(action), str(subject)) for action, subject in rows]


async def test_the_bot_is_registered_once_and_exempted_and_a_second_run_changes_nothing(
    throttled: LocalHomeserver, tmp_path: Path
) -> None:
    config, secret_file, user = _setup(tmp_path, throttled)
    code, output = await _bootstrap(config, secret_file)
    assert code == 0, output
    assert f"{user}: account registered" in output and "now exempt from the homeserver's rate limits" in output
    assert _audited(tmp_path) == [("homeserver.register_bot", user), ("homeserver.exempt_bot", user)]

    code, output = await _bootstrap(config, secret_file)
    assert code == 0, output
    assert "account exists already" in output and "already exempt" in output
    assert len(_audited(tmp_path)) == 2  # nothing changed, nothing audited

    token, device = await throttled.login(user, "bot-password")
    status, override = await _admin(
        throttled, token, "GET", f"/_synapse/admin/v1/users/{quote(user)}/override_ratelimit"
    )
    assert (status, override) == (200, {"messages_per_second": 0, "burst_count": 0})
    status, account = await _admin(throttled, token, "GET", f"/_synapse/admin/v2/users/{quote(user)}")
    assert status == 200 and account["admin"] is True
    _, devices = await _admin(throttled, token, "GET", "/_matrix/client/v3/devices")
    # Each run logged its own session out again: only this test's login is left.
    assert [d["device_id"] for d in devices["devices"]] == [device]


async def _send_many(hs: LocalHomeserver, token: str, room: str, count: int) -> list[int]:
    """Send `count` messages as fast as the homeserver takes them; their HTTP statuses."""
    headers = {"Authorization": f"Bearer {token}"}
    statuses = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for n in range(count):
            url = f"{hs.base_url}/_matrix/client/v3/rooms/{quote(room)}/send/m.room.message/t{uuid.uuid4().hex}"
            async with http.put(url, json={"msgtype": "m.notice", "body": f"通知 {n}"}) as r:
                statuses.append(r.status)
    return statuses


async def _open_direct_chats(hs: LocalHomeserver, token: str, people: list[str]) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}
    statuses = []
    async with aiohttp.ClientSession(headers=headers) as http:
        for person in people:
            body = {"preset": "trusted_private_chat", "is_direct": True, "invite": [person]}
            async with http.post(f"{hs.base_url}/_matrix/client/v3/createRoom", json=body) as r:
                statuses.append(r.status)
    return statuses


async def _room(hs: LocalHomeserver, token: str) -> str:
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http,
        http.post(f"{hs.base_url}/_matrix/client/v3/createRoom", json={"preset": "private_chat"}) as r,
    ):
        assert r.status == 200, await r.text()
        return str((await r.json())["room_id"])


async def test_the_exempt_bot_writes_to_many_people_at_once_where_an_ordinary_account_is_refused(
    throttled: LocalHomeserver, tmp_path: Path
) -> None:
    # Without the exemption: Synapse's stock limits refuse a burst of 30 messages.
    ordinary = await throttled.register(f"clerk-{uuid.uuid4().hex[:6]}", "pw")
    token, _ = await throttled.login(ordinary, "pw")
    statuses = await _send_many(throttled, token, await _room(throttled, token), 30)
    assert 429 in statuses, "the homeserver under test does not rate-limit: the test proves nothing"

    config, secret_file, bot = _setup(tmp_path, throttled)
    code, output = await _bootstrap(config, secret_file)
    assert code == 0, output
    token, _ = await throttled.login(bot, "bot-password")
    assert set(await _send_many(throttled, token, await _room(throttled, token), 30)) == {200}
    # More direct chats than the stock limits allow at once (10 rooms, 5 invitations).
    people = [await throttled.register(f"responder-{n}-{uuid.uuid4().hex[:4]}", "pw") for n in range(12)]
    assert set(await _open_direct_chats(throttled, token, people)) == {200}


async def test_a_wrong_shared_secret_is_refused_in_plain_words(homeserver: LocalHomeserver, tmp_path: Path) -> None:
    config, secret_file, user = _setup(tmp_path, homeserver, secret="not-the-secret")
    code, output = await _bootstrap(config, secret_file)
    assert code == 1 and "Traceback" not in output
    assert "refused the shared secret" in output
    status, _ = await homeserver._request("GET", f"/_matrix/client/v3/profile/{quote(user)}")
    assert status == 404  # no account was made


async def test_an_existing_account_it_cannot_use_stops_the_bot_with_the_reason(
    homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    config, secret_file, user = _setup(tmp_path, homeserver)
    # Registered earlier by hand, with another password: the bootstrap cannot log in as it.
    await homeserver.register(user[1:].split(":")[0], "another-password")
    code, output = await _bootstrap(config, secret_file)
    assert code == 1 and "Traceback" not in output
    assert "refused matrix.password" in output

    # Registered earlier without admin rights: it cannot exempt itself, and says whom to ask.
    config, secret_file, user = _setup(tmp_path, homeserver)
    await homeserver.register(user[1:].split(":")[0], "bot-password")
    code, output = await _bootstrap(config, secret_file)
    assert code == 1 and "Traceback" not in output
    assert "not a server admin" in output and "override_ratelimit" in output


async def test_a_homeserver_that_does_not_answer_is_named(tmp_path: Path) -> None:
    config = tmp_path / "zhiban.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@zhiban:localhost"\n'
        'password = "pw"\n',
        encoding="utf-8",
    )
    secret = tmp_path / "secret"
    secret.write_text("s")
    args = ["homeserver", "bootstrap", "-c", str(config), "--shared-secret-file", str(secret), "--wait", "0"]
    result = await asyncio.to_thread(CliRunner().invoke, app, args)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "the homeserver at http://127.0.0.1:9 does not answer" in result.output
