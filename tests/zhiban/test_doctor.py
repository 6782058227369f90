"""`zhiban doctor`: plain words for every broken part, no traceback, nothing changed on disk,
warnings (⚠) apart from failures (✘), and exit code 1 only for failures."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from typer.testing import CliRunner

from records.audit_seal import install
from zhiban.cli import app


def _doctor(tmp_path: Path, toml: str) -> tuple[int, str]:
    path = tmp_path / "zhiban.toml"
    path.write_text(toml, encoding="utf-8")
    result = CliRunner().invoke(app, ["doctor", "--config", str(path)])
    return result.exit_code, result.output


def _line(output: str, name: str) -> str:
    found = [line for line in output.splitlines() if line[2:].startswith(f"{name}:")]
    assert found, output
    return found[0]


def _base(tmp_path: Path, redis_url: str, **extra: str) -> str:
    """A config whose parts all work, but for the homeserver (absent) unless given."""
    lines = [
        f'data_dir = "{tmp_path / "data"}"',
        "[matrix]",
        f'homeserver = "{extra.get("homeserver", "http://127.0.0.1:9")}"',
        f'user_id = "{extra.get("user_id", "@zhiban:localhost")}"',
    ]
    if "password" in extra:
        lines.append(f'password = "{extra["password"]}"')
    lines += ["[redis]", f'url = "{extra.get("redis", redis_url)}"', "[voice]", "enabled = false"]
    if "database" in extra:
        lines += ["[database]", f'url = "{extra["database"]}"']
    return "\n".join(lines) + "\n"


def test_a_bad_database_url_is_one_line_not_a_traceback(tmp_path: Path, redis_url: str) -> None:
    code, output = _doctor(tmp_path, _base(tmp_path, redis_url, password="pw", database="not a url"))
    assert code == 1 and "Traceback" not in output
    assert _line(output, "database").startswith("✘") and "database.url is not a database URL" in output


def test_a_postgresql_error_is_given_whole(tmp_path: Path, redis_url: str, postgres_server: str) -> None:
    url = postgres_server.rsplit("/", 1)[0] + "/zhiban_doctor_no_such_database"
    code, output = _doctor(tmp_path, _base(tmp_path, redis_url, password="pw", database=url))
    line = _line(output, "database")
    assert code == 1 and line.startswith("✘")
    assert 'database "zhiban_doctor_no_such_database" does not exist' in line


def test_the_database_password_given_apart_is_used_and_never_shown(
    tmp_path: Path, redis_url: str, postgres_server: str
) -> None:
    # docker-compose passes the password as database.password, apart from the URL.
    url = postgres_server.rsplit("/", 1)[0] + "/zhiban_doctor_no_such_database"
    toml = _base(tmp_path, redis_url, password="pw", database=url) + 'password = "s3cret-pw"\n'
    code, output = _doctor(tmp_path, toml)
    line = _line(output, "database")
    assert code == 1 and line.startswith("✘") and ":***@" in line
    assert "s3cret-pw" not in output


def test_a_missing_password_is_said_in_plain_words(tmp_path: Path, redis_url: str) -> None:
    code, output = _doctor(tmp_path, _base(tmp_path, redis_url))
    assert code == 1 and "Traceback" not in output
    line = _line(output, "bot account")
    assert line.startswith("✘") and "matrix.password is not set" in line


def _with_path(url: str, path: str, query: str = "") -> str:
    return urlunsplit(urlsplit(url)._replace(path=path, query=query))


def test_a_wrong_redis_scheme_or_database_is_named(tmp_path: Path, redis_url: str) -> None:
    code, output = _doctor(tmp_path, _base(tmp_path, redis_url, password="pw", redis="http://127.0.0.1:6379/0"))
    line = _line(output, "redis")
    assert code == 1 and line.startswith("✘") and "must start with redis://, rediss:// or unix://" in line
    if redis_url.startswith("unix://"):
        too_far = redis_url.split("?", 1)[0] + "?db=99"  # the embedded Redis, on a socket
    else:
        too_far = _with_path(redis_url, "/99")
    code, output = _doctor(tmp_path, _base(tmp_path, redis_url, password="pw", redis=too_far))
    line = _line(output, "redis")
    assert line.startswith("✘") and "answers, but has no database 99" in line and "does not answer" not in line


def test_the_doctor_creates_no_folder(tmp_path: Path, redis_url: str) -> None:
    toml = _base(tmp_path, redis_url, password="pw").replace(
        f'data_dir = "{tmp_path / "data"}"', f'data_dir = "{tmp_path / "new" / "data"}"'
    )
    _, output = _doctor(tmp_path, toml)
    assert _line(output, "database").startswith("⚠") and "does not exist yet" in output
    assert not (tmp_path / "new").exists()


def test_a_speech_model_not_assembled_yet_is_a_warning(tmp_path: Path, redis_url: str) -> None:
    import faster_whisper  # noqa: F401  (make test installs the voice extra: never skipped)

    toml = _base(tmp_path, redis_url, password="pw").replace(
        "enabled = false", f'enabled = true\nmodel_dir = "{tmp_path / "model"}"'
    )
    _, output = _doctor(tmp_path, toml)
    line = _line(output, "speech model")
    assert line.startswith("⚠") and "first use" in line, output
    assert not (tmp_path / "model").exists()


async def _devices(homeserver, user_id: str, password: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The display names of the account's devices (the one this look logs in with excluded)."""
    import aiohttp

    token, device = await homeserver.login(user_id, password)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{homeserver.base_url}/_matrix/client/v3/devices", headers=headers) as r:
            devices = (await r.json())["devices"]
        async with http.post(f"{homeserver.base_url}/_matrix/client/v3/logout", headers=headers):
            pass
    return [d.get("display_name") or "" for d in devices if d["device_id"] != device]


async def test_the_doctor_logs_in_as_the_bot_and_out_again(homeserver, tmp_path: Path, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    user = await homeserver.register("doctor-bot", "right-password")
    before = await _devices(homeserver, user, "right-password")
    wrong = _base(tmp_path, redis_url, homeserver=homeserver.base_url, user_id=user, password="wrong-password")
    code, output = await asyncio.to_thread(_doctor, tmp_path, wrong)
    line = _line(output, "bot account")
    assert code == 1 and line.startswith("✘") and "refused matrix.password" in line, output

    right = _base(tmp_path, redis_url, homeserver=homeserver.base_url, user_id=user, password="right-password")
    code, output = await asyncio.to_thread(_doctor, tmp_path, right)
    assert _line(output, "bot account").startswith("✔") and "and out again" in output
    # Only warnings left (the database is not created yet): the doctor passes.
    assert code == 0 and "✘" not in output and "⚠" in output, output
    assert await _devices(homeserver, user, "right-password") == before  # no device left behind


# -- the bot's exemption from the homeserver's rate limits -------------------------------------


async def test_the_rate_limit_exemption_is_checked_absent_then_present(  # type: ignore[no-untyped-def]
    homeserver, tmp_path: Path, redis_url: str
) -> None:
    user = await homeserver.register("doctor-admin-bot", "pw", admin=True)
    toml = _base(tmp_path, redis_url, homeserver=homeserver.base_url, user_id=user, password="pw")
    code, output = await asyncio.to_thread(_doctor, tmp_path, toml)
    line = _line(output, "rate limits")
    # Absent: the bot works, but is throttled under load; a warning that says how to fix it.
    assert line.startswith("⚠") and "held to the homeserver's rate limits" in line, output
    assert "zhiban homeserver bootstrap" in line and code == 0 and "Traceback" not in output

    secret = tmp_path / "secret"
    secret.write_text(homeserver.registration_shared_secret)
    config = tmp_path / "zhiban.toml"
    args = ["homeserver", "bootstrap", "--config", str(config), "--shared-secret-file", str(secret)]
    bootstrapped = await asyncio.to_thread(CliRunner().invoke, app, args)
    install(None)  # the bootstrap gave this process the audit key for its entries
    assert bootstrapped.exit_code == 0, bootstrapped.output
    code, output = await asyncio.to_thread(_doctor, tmp_path, toml)
    assert _line(output, "rate limits") == f"✔ rate limits: {user} is exempt from the homeserver's rate limits"


async def test_a_bot_that_is_no_server_admin_is_told_whom_to_ask(  # type: ignore[no-untyped-def]
    homeserver, tmp_path: Path, redis_url: str
) -> None:
    user = await homeserver.register("doctor-plain-bot", "pw")
    toml = _base(tmp_path, redis_url, homeserver=homeserver.base_url, user_id=user, password="pw")
    code, output = await asyncio.to_thread(_doctor, tmp_path, toml)
    line = _line(output, "rate limits")
    # A homeserver run by others: a warning, not a failure, naming what to ask its admin for.
    assert line.startswith("⚠") and "not a server admin" in line and "ask the homeserver's admin" in line
    assert f"/_synapse/admin/v1/users/{user}/override_ratelimit" in line
    assert code == 0 and "Traceback" not in output
