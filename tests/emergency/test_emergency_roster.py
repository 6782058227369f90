"""The duty roster: now and next, replacing overlaps, CSV import with bad lines, hand-over, log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from emergency import roster
from records.clock import FrozenClock
from records.db import Database
from records.errors import DomainError, NotAllowed

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


async def test_now_and_next_and_overlap_replacement(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as s:
        await roster.set_shift(
            s, starts_at=T0 - timedelta(hours=2), ends_at=T0 + timedelta(hours=6), leader="@zhang:x",
            officers=["@li:x"], actor="@admin:x", clock=clock,
        )  # fmt: skip
        await roster.set_shift(
            s, starts_at=T0 + timedelta(hours=6), ends_at=T0 + timedelta(hours=30), leader="@wang:x",
            officers=["@zhao:x", "@qian:x"], actor="@admin:x", clock=clock,
        )  # fmt: skip
    async with db.transaction() as s:
        current, upcoming = await roster.now_and_next(s, clock.now())
        assert current is not None and current.leader == "@zhang:x"
        assert upcoming is not None and upcoming.officers == ["@zhao:x", "@qian:x"]
        assert await roster.on_duty(s, clock.now()) == ["@zhang:x", "@li:x"]
        # A new shift over the second one replaces it.
        _, replaced = await roster.set_shift(
            s, starts_at=T0 + timedelta(hours=6), ends_at=T0 + timedelta(hours=18), leader="@sun:x",
            officers=[], actor="@admin:x", clock=clock,
        )  # fmt: skip
        assert replaced == 1
    clock.advance(timedelta(hours=7))
    async with db.transaction() as s:
        current, upcoming = await roster.now_and_next(s, clock.now())
        assert current is not None and current.leader == "@sun:x"
        assert upcoming is None
        with pytest.raises(DomainError):
            await roster.set_shift(
                s, starts_at=T0, ends_at=T0 - timedelta(hours=1), leader="@a:x", officers=[], actor="@b:x",
                clock=clock,
            )  # fmt: skip


CSV_GOOD = """date,start,end,leader,officers,note
2026-11-26,08:30,08:30,@zhang:office,@li:office;@wang,
2026-11-27,08:30,17:30,zhao,@qian:office,白班
"""

CSV_BAD = """date,start,end,leader,officers
2026-11-26,08:30,08:30,@zhang:office,@li:office
2026-13-01,08:30,08:30,@zhang:office,@li:office
2026-11-28,8h,9h,@zhang:office,@li:office
2026-11-29,08:30,17:30,张 三,@li:office
2026-11-26,20:00,22:00,@wang:office,
2026-11-30,08:30,17:30,,
"""


def test_csv_parses_local_times_and_overnight_shifts() -> None:
    parsed = roster.parse_roster_csv(CSV_GOOD, tz="Asia/Shanghai", default_server="office")
    assert parsed.errors == []
    first, second = parsed.rows
    assert first.starts_at.astimezone(UTC) == datetime(2026, 11, 26, 0, 30, tzinfo=UTC)
    assert first.ends_at - first.starts_at == timedelta(hours=24)
    assert first.officers == ["@li:office", "@wang:office"]
    assert second.leader == "@zhao:office" and second.note == "白班"


def test_csv_reports_every_bad_line_with_its_number() -> None:
    parsed = roster.parse_roster_csv(CSV_BAD, tz="Asia/Shanghai", default_server="office")
    by_line = {e.line: e.key for e in parsed.errors}
    assert by_line == {
        3: "em.csv.bad_date",
        4: "em.csv.bad_time",
        5: "em.csv.bad_user",
        6: "em.csv.overlap",
        7: "em.csv.nobody",
    }
    missing = roster.parse_roster_csv("day,leader\n", tz="Asia/Shanghai", default_server="office")
    assert missing.errors[0].key == "em.csv.columns" and "officers" in missing.errors[0].params["missing"]


async def test_csv_import_is_all_or_nothing(db: Database) -> None:
    clock = FrozenClock(T0)
    bad = roster.parse_roster_csv(CSV_BAD, tz="Asia/Shanghai", default_server="office")
    async with db.transaction() as s:
        with pytest.raises(DomainError) as err:
            await roster.import_roster(s, bad, actor="@admin:x", clock=clock)
        assert err.value.key == "em.csv.rejected" and err.value.params["count"] == 5
    good = roster.parse_roster_csv(CSV_GOOD, tz="Asia/Shanghai", default_server="office")
    async with db.transaction() as s:
        assert await roster.import_roster(s, good, actor="@admin:x", clock=clock) == 2
    async with db.transaction() as s:
        shift = await roster.shift_at(s, datetime(2026, 11, 26, 12, 0, tzinfo=UTC))
        assert shift is not None and shift.leader == "@zhang:office"


async def test_handover_goes_to_the_next_shift_which_acknowledges(db: Database) -> None:
    clock = FrozenClock(T0)
    async with db.transaction() as s:
        await roster.set_shift(
            s, starts_at=T0 - timedelta(hours=1), ends_at=T0 + timedelta(hours=1), leader="@a:x", officers=[],
            actor="@admin:x", clock=clock,
        )  # fmt: skip
        await roster.set_shift(
            s, starts_at=T0 + timedelta(hours=1), ends_at=T0 + timedelta(hours=9), leader="@b:x",
            officers=["@c:x"], actor="@admin:x", clock=clock,
        )  # fmt: skip
        item = await roster.hand_over(s, actor="@a:x", notes="城东泵站待修", room_id="!duty:x", clock=clock)
        assert item.to_users == ["@b:x", "@c:x"]
    async with db.transaction() as s:
        with pytest.raises(NotAllowed):
            await roster.ack_handover(s, item.id, user="@stranger:x", clock=clock)
        done = await roster.ack_handover(s, item.id, user="@c:x", clock=clock)
        assert done.acked_by == "@c:x" and done.acked_at == clock.now()


async def test_duty_log_reads_structured_fields(db: Database) -> None:
    fields = roster.parse_log_text("来源:城东街道 报告人:王五 电话:13800000000 已告知:@zhang:x @li:x 和平路积水30厘米")
    assert fields.source == "城东街道" and fields.reporter == "王五" and fields.contact == "13800000000"
    assert fields.told == ["@zhang:x", "@li:x"]
    assert fields.content == "和平路积水30厘米"
    clock = FrozenClock(T0)
    async with db.transaction() as s:
        entry = await roster.add_log(s, fields, actor="@a:x", clock=clock)
        assert entry.recorded_by == "@a:x"
        assert [e.id for e in await roster.log_since(s, T0 - timedelta(hours=1))] == [entry.id]
