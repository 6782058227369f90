"""Each timer run is counted and logged: how late it started, how it ended, which record it
was about; the payload's text never reaches the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import update

from records.clock import FrozenClock
from records.db import Database
from records.models import Timer
from records.timers import Fired, TimerRegistry, run_timer, schedule

T0 = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
KIND = "test.metrics"
BROKEN = "test.metrics.broken"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def registry() -> TimerRegistry:
    timers = TimerRegistry()

    @timers.register(KIND)
    async def fine(session: object, timer: Timer, clock: object) -> Fired | None:
        return None

    @timers.register(BROKEN)
    async def broken(session: object, timer: Timer, clock: object) -> Fired | None:
        raise RuntimeError("the service is down")

    return timers


async def scheduled(db: Database, kind: str, clock: FrozenClock) -> int:
    async with db.transaction() as session:
        timer = await schedule(
            session,
            kind,
            T0,
            {"id": 12, "user": "@li:office.example", "body": "检查三号仓库的保密柜"},
            key=f"{kind}:12",
            clock=clock,
        )
        return timer.id


async def test_a_late_timer_is_counted_with_its_lateness_and_logged_by_record(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FrozenClock(T0 - timedelta(minutes=1))
    timer_id = await scheduled(db, KIND, clock)
    late, done = (
        sample("zhiban_timers_late_total", kind=KIND),
        sample("zhiban_timers_fired_total", kind=KIND, outcome="done"),
    )
    lateness = sample("zhiban_timer_lateness_seconds_sum", kind=KIND)
    clock.set(T0 + timedelta(seconds=30))
    with caplog.at_level(logging.INFO, logger="zhiban.timers"):
        assert await run_timer(db, timer_id, registry(), clock) == "done"
    assert sample("zhiban_timers_fired_total", kind=KIND, outcome="done") == done + 1
    assert sample("zhiban_timers_late_total", kind=KIND) == late + 1
    assert sample("zhiban_timer_lateness_seconds_sum", kind=KIND) == pytest.approx(lateness + 30)
    [record] = [r for r in caplog.records if getattr(r, "timer_id", None) == timer_id]
    facts: Any = record
    assert (facts.kind, facts.outcome, facts.lateness_seconds) == (KIND, "done", 30)
    # A bare "id" is the record of the timer's feature; "user" is the person it is for.
    assert (facts.test_id, facts.user) == (12, "@li:office.example")
    assert "test_id=12" in record.getMessage()
    assert "保密柜" not in caplog.text


async def test_a_failing_timer_is_counted_as_an_error(db: Database) -> None:
    clock = FrozenClock(T0)
    timer_id = await scheduled(db, BROKEN, clock)
    errors = sample("zhiban_timers_fired_total", kind=BROKEN, outcome="error")
    assert await run_timer(db, timer_id, registry(), clock) == "error"
    assert sample("zhiban_timers_fired_total", kind=BROKEN, outcome="error") == errors + 1


async def test_a_run_that_lost_its_claim_is_not_counted_as_done(db: Database) -> None:
    """While a slow I/O timer ran, its lease lapsed and another job took it: that job's run is
    the one that completes it, so this one is counted as "lost", not as a second "done"."""
    kind = "test.metrics.io"
    timers = TimerRegistry()

    @timers.register_io(kind)
    async def slow(db_: Database, timer: Timer, clock: object) -> Fired | None:
        async with db_.transaction() as session:
            await session.execute(update(Timer).where(Timer.id == timer.id).values(claim_token="another-run"))
        return None

    clock = FrozenClock(T0)
    timer_id = await scheduled(db, kind, clock)
    done, lost = (
        sample("zhiban_timers_fired_total", kind=kind, outcome="done"),
        sample("zhiban_timers_fired_total", kind=kind, outcome="lost"),
    )
    lateness = sample("zhiban_timer_lateness_seconds_count", kind=kind)
    assert await run_timer(db, timer_id, timers, clock) == "lost"
    assert sample("zhiban_timers_fired_total", kind=kind, outcome="done") == done
    assert sample("zhiban_timers_fired_total", kind=kind, outcome="lost") == lost + 1
    # Its lateness is the other run's to report: one timer, one lateness.
    assert sample("zhiban_timer_lateness_seconds_count", kind=kind) == lateness
    async with db.reading() as session:
        timer = await session.get(Timer, timer_id)
        assert timer is not None and timer.status == "claimed" and timer.claim_token == "another-run"
