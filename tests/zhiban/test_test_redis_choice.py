"""The tests never flush a developer's own Redis unless told to use it."""

from __future__ import annotations

from tests.support.redis_server import chosen_server


def test_the_tests_use_an_embedded_redis_unless_one_is_named() -> None:
    assert chosen_server({}) is None  # not db 15 of whatever answers on localhost
    assert chosen_server({"ZHIBAN_TEST_REDIS": ""}) is None
    assert chosen_server({"ZHIBAN_TEST_REDIS": "redis://127.0.0.1:6379/6"}) == "redis://127.0.0.1:6379/6"
