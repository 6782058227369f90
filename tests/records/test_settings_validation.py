"""Weak or wrong settings are refused at start, one line per key, without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from records.config import ConfigError, Settings, load_settings
from zhiban.cli import app
from zhiban.config_file import fresh_config, write_config

GOOD_SECRET = "k" * 32


def _load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "zhiban.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    return str(caught.value)


def test_defaults_and_a_fresh_init_config_are_accepted(tmp_path: Path) -> None:
    Settings()  # what the tests and `zhiban up` build on: an empty key means a per-process one
    path = tmp_path / "init.toml"
    write_config(
        path,
        fresh_config(homeserver="https://matrix.office.example", bot_user="@zhiban:office.example", bot_password="pw"),
    )
    settings = load_settings(path)
    assert len(settings.server.secret_key) >= 32
    assert len(settings.server.metrics_token) >= 32  # /metrics stays closed to strangers
    assert settings.push.allowed_hosts == Settings().push.allowed_hosts


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    message = _problems(tmp_path, '[server]\nsecret_key = "changeme"\n')
    assert "server.secret_key" in message and "32" in message
    assert _load(tmp_path, f'[server]\nsecret_key = "{GOOD_SECRET}"\n').server.secret_key == GOOD_SECRET


@pytest.mark.parametrize(
    ("section", "key", "value"),
    [
        ("matrix", "max_message_chars", "-1"),
        ("worker", "claim_lease_seconds", "-5"),
        ("worker", "pump_interval_seconds", "0"),
        ("server", "max_body_bytes", "-1"),
        ("server", "gateway_max_body_bytes", "0"),
        ("server", "session_days", "-30"),
        ("push", "signin_link_minutes", "-15"),
        ("push", "max_in_flight", "0"),
        ("push", "send_timeout_seconds", "-1.0"),
        ("push", "retry_attempts", "-3"),
        ("push", "retry_max_delay_seconds", "-20.0"),
        ("voice", "max_bytes", "-1"),
        ("voice", "max_seconds", "0"),
        ("tasks", "remind_before_minutes", "[60, -10]"),
        ("meetings", "remind_before_minutes", "[-60]"),
        ("meetings", "places", '{"三楼会议室" = -20}'),
        ("emergency", "remind_before_minutes", "-10"),
        ("emergency", "nag_escalate_after", "-2"),
        ("emergency", "nag_max", "0"),
        ("emergency", "first_report_minutes", '{"1" = -30}'),
        ("emergency", "order_ack_minutes", '{"9" = 5}'),
    ],
)
def test_negative_or_zero_limits_are_refused(tmp_path: Path, section: str, key: str, value: str) -> None:
    message = _problems(tmp_path, f"[{section}]\n{key} = {value}\n")
    assert f"{section}.{key}" in message, message


@pytest.mark.parametrize("port", [0, -1, 65536, 80000])
def test_a_port_out_of_range_is_refused(tmp_path: Path, port: int) -> None:
    assert "server.port" in _problems(tmp_path, f"[server]\nport = {port}\n")


@pytest.mark.parametrize(
    "host", ["*", "*.com", "*.co.uk", "*.example.com", "*.googleapis.com", "push.*.com", "https://fcm.googleapis.com/"]
)
def test_a_broad_or_malformed_push_host_is_refused(tmp_path: Path, host: str) -> None:
    message = _problems(tmp_path, f'[push]\nallowed_hosts = ["fcm.googleapis.com", "{host}"]\n')
    assert "push.allowed_hosts.1" in message, message


def test_specific_push_hosts_and_narrow_wildcards_are_accepted(tmp_path: Path) -> None:
    hosts = [
        "fcm.googleapis.com",
        "*.notify.windows.com",
        "*.push.apple.com",
        "*.push.office.example.cn",
        "Push.Example.ORG.",
    ]
    settings = _load(tmp_path, "[push]\nallowed_hosts = [" + ", ".join(f'"{h}"' for h in hosts) + "]\n")
    assert settings.push.allowed_hosts[-1] == "push.example.org"


@pytest.mark.parametrize("user_id", ["zhiban", "zhiban:localhost", "@zhiban", "@zhi ban:localhost", "@zhiban:"])
def test_a_bot_user_id_that_is_not_a_matrix_id_is_refused(tmp_path: Path, user_id: str) -> None:
    message = _problems(tmp_path, f'[matrix]\nuser_id = "{user_id}"\n')
    assert "matrix.user_id" in message and "@name:server" in message


@pytest.mark.parametrize("user_id", ["@zhiban:localhost", "@zhiban:office.example:8448", "@bot_1:[::1]"])
def test_matrix_ids_are_accepted(tmp_path: Path, user_id: str) -> None:
    assert _load(tmp_path, f'[matrix]\nuser_id = "{user_id}"\n').matrix.user_id == user_id


@pytest.mark.parametrize("url", ["zhiban.example.org", "ftp://zhiban.example.org", "https://", "//zhiban.example.org"])
def test_a_public_url_without_http_scheme_is_refused(tmp_path: Path, url: str) -> None:
    assert "server.public_url" in _problems(tmp_path, f'[server]\npublic_url = "{url}"\n')


@pytest.mark.parametrize("url", ["matrix.example.org", "ftp://matrix.example.org", "http://"])
def test_a_homeserver_without_http_scheme_is_refused(tmp_path: Path, url: str) -> None:
    assert "matrix.homeserver" in _problems(tmp_path, f'[matrix]\nhomeserver = "{url}"\n')


def test_the_cli_names_every_bad_key_on_one_line_without_a_traceback(tmp_path: Path) -> None:
    config = tmp_path / "zhiban.toml"
    config.write_text(
        '[server]\nsecret_key = "short"\nport = 70000\npublic_url = "zhiban.example.org"\n'
        '[push]\nallowed_hosts = ["*.com"]\n[matrix]\nuser_id = "zhiban"\n[voice]\nmax_bytes = -1\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["audit", "verify", "--config", str(config)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    for key in (
        "server.secret_key",
        "server.port",
        "server.public_url",
        "push.allowed_hosts.0",
        "matrix.user_id",
        "voice.max_bytes",
    ):
        assert sum(key in line for line in result.output.splitlines()) == 1, (key, result.output)
