"""`zhiban up` with a configured Redis names it, and its database, without the password."""

from __future__ import annotations

from zhiban.local.stack import describe_redis


def test_a_configured_redis_is_named_with_its_database_and_no_password() -> None:
    shown = describe_redis("redis://:s3cret@redis.office.example:6380/3")
    assert shown == "redis.office.example:6380, database 3"
    assert describe_redis("redis://127.0.0.1") == "127.0.0.1:6379, database 0"
