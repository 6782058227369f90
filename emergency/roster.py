"""The duty roster (值班表), hand-overs (交接班) and the duty log (值班记录).

A new shift replaces the shifts it overlaps, so that the roster never has two leaders for
the same minute; every change is audited.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from emergency.models import Handover, LogEntry, Shift
from records import audit, people
from records.clock import Clock
from records.errors import DomainError, NotAllowed, NotFound
from timeparse.budget import HORIZON_YEARS, bounded, check

MAX_SHIFT = timedelta(days=7)


# -- shifts -------------------------------------------------------------------------------
async def set_shift(
    session: AsyncSession,
    *,
    starts_at: datetime,
    ends_at: datetime,
    leader: str | None,
    officers: list[str],
    actor: str,
    clock: Clock,
    note: str | None = None,
) -> tuple[Shift, int]:
    """Add a shift; returns it and how many overlapping shifts it replaced."""
    _check_span(starts_at, ends_at)
    if not leader and not officers:
        raise DomainError("em.duty.nobody")
    replaced = await _remove_overlapping(session, starts_at, ends_at)
    shift = Shift(
        starts_at=starts_at,
        ends_at=ends_at,
        leader=leader,
        officers=list(dict.fromkeys(officers)),
        note=note,
        created_by=actor,
        created_at=clock.now(),
    )
    session.add(shift)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="duty.set",
        subject=f"S{shift.id}",
        data={"from": starts_at, "to": ends_at, "leader": leader, "officers": shift.officers, "replaced": replaced},
        clock=clock,
    )
    return shift, replaced


def _check_span(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise DomainError("em.duty.bad_span")
    if ends_at - starts_at > MAX_SHIFT:
        raise DomainError("em.duty.too_long")


async def _remove_overlapping(session: AsyncSession, starts_at: datetime, ends_at: datetime) -> int:
    result = await session.execute(delete(Shift).where(Shift.starts_at < ends_at, Shift.ends_at > starts_at))
    return int(getattr(result, "rowcount", 0) or 0)


async def shift_at(session: AsyncSession, at: datetime) -> Shift | None:
    return await session.scalar(
        select(Shift).where(Shift.starts_at <= at, Shift.ends_at > at).order_by(Shift.starts_at.desc()).limit(1)
    )


async def next_shift(session: AsyncSession, after: datetime) -> Shift | None:
    return await session.scalar(select(Shift).where(Shift.starts_at > after).order_by(Shift.starts_at).limit(1))


async def now_and_next(session: AsyncSession, now: datetime) -> tuple[Shift | None, Shift | None]:
    current = await shift_at(session, now)
    upcoming = await next_shift(session, current.ends_at - timedelta(microseconds=1) if current else now)
    return current, upcoming


async def on_duty(session: AsyncSession, now: datetime) -> list[str]:
    current = await shift_at(session, now)
    return current.people if current else []


# -- CSV import -------------------------------------------------------------------------------
@dataclass
class ShiftRow:
    line: int
    starts_at: datetime
    ends_at: datetime
    leader: str | None
    officers: list[str]
    note: str | None = None
    phones: dict[str, str] = field(default_factory=dict)  # user id → number, from the phone column


@dataclass
class RowError:
    line: int
    key: str
    params: dict[str, str] = field(default_factory=dict)
    column: str | None = None  # the column at fault, when one is


@dataclass
class ParsedRoster:
    rows: list[ShiftRow]
    errors: list[RowError]


REQUIRED_COLUMNS = ("date", "start", "end", "leader", "officers")
# The optional phone column, under any of these headers.
PHONE_COLUMNS = ("phone", "phones", "电话")
# A roster covers weeks or months; more lines than this is not a roster (and would only
# make the bot read for a long time before saying so).
MAX_ROWS = 2000
_PEOPLE_SPLIT = re.compile(r"[;；、，,\s]+")
_MXID = re.compile(r"^@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?$")
_SHORT = re.compile(r"^@?[A-Za-z0-9._=\-/+]+$")
# A phone cell: `13800000000` (the leader's) or `li=13900000000; wang=13700000000`; a number
# may hold spaces or dashes, so entries are split on separators other than a space.
_PHONE_SPLIT = re.compile(r"[;；、，,]+")
_PHONE = re.compile(r"^\+?[0-9][0-9 \-]{4,30}$")


def normalize_user(value: str, default_server: str) -> str | None:
    """'@li:office', '@li' or 'li' → '@li:office'; None when it cannot be a Matrix ID."""
    value = value.strip()
    if _MXID.match(value):
        return value
    if _SHORT.match(value):
        return f"@{value.lstrip('@')}:{default_server}"
    return None


@bounded
def parse_roster_csv(text: str, *, tz: str, default_server: str, today: date | None = None) -> ParsedRoster:
    """Read a roster: `date,start,end,leader,officers[,note][,phone]`, one shift a line.

    `date` is YYYY-MM-DD within HORIZON_YEARS of `today`, `start`/`end` are HH:MM in `tz`
    (an end at or before the start is on the next day; no UTC offset: the zone is `tz`),
    people are Matrix IDs or short names, officers separated by ';'. `phone` (or `电话`) holds
    the leader's number, or `person=number` entries for anyone of the line. Every bad line is
    reported with its number and column; the caller imports nothing when there is any.
    """
    zone = ZoneInfo(tz)
    today = today or date.today()
    # newline="": the csv module reads line ends itself (a lone \r in a cell is one, not an error).
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error:
        return ParsedRoster([], [RowError(1, "em.csv.unreadable")])
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        return ParsedRoster([], [RowError(1, "em.csv.columns", {"missing": ", ".join(missing)})])
    header = ["phone" if h in PHONE_COLUMNS else h for h in header]
    reader.fieldnames = header
    rows: list[ShiftRow] = []
    errors: list[RowError] = []
    try:
        _read_rows(reader, zone, default_server, today, rows, errors)
    except csv.Error:  # a file csv cannot read on: reported on the line it stopped at
        errors.append(RowError(reader.line_num, "em.csv.unreadable"))
    rows.sort(key=lambda r: r.starts_at)
    for earlier, later in itertools.pairwise(rows):
        if later.starts_at < earlier.ends_at:
            errors.append(RowError(later.line, "em.csv.overlap", {"other": str(earlier.line)}))
    errors.sort(key=lambda e: e.line)
    return ParsedRoster(rows, errors)


def _read_rows(
    reader: csv.DictReader[str],
    zone: ZoneInfo,
    default_server: str,
    today: date,
    rows: list[ShiftRow],
    errors: list[RowError],
) -> None:
    for number, raw in enumerate(reader, start=2):
        check()
        if number - 1 > MAX_ROWS:
            errors.append(RowError(number, "em.csv.too_many", {"limit": str(MAX_ROWS)}))
            break
        record = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(record.values()):
            continue
        row = _parse_row(number, record, zone, default_server, errors, today)
        if row is not None:
            rows.append(row)


def _clock(value: str) -> time | None:
    """HH:MM[:SS] wall time; None for anything else, a UTC offset included (the zone is the
    roster's: 08:30:00+05:00 cannot be compared with 20:00)."""
    try:
        clock = time.fromisoformat(value)
    except ValueError:
        return None
    return clock if clock.tzinfo is None else None


def _parse_row(
    number: int, record: dict[str, str], zone: ZoneInfo, server: str, errors: list[RowError], today: date
) -> ShiftRow | None:
    try:
        day = date.fromisoformat(record["date"])
    except ValueError:
        errors.append(RowError(number, "em.csv.bad_date", {"value": record["date"][:40]}, "date"))
        return None
    if abs(day.year - today.year) > HORIZON_YEARS:
        errors.append(
            RowError(number, "em.csv.date_range", {"value": record["date"][:40], "years": str(HORIZON_YEARS)}, "date")
        )
        return None
    for column in ("start", "end"):
        if _clock(record[column]) is None:
            errors.append(RowError(number, "em.csv.bad_time", {"value": record[column][:40]}, column))
            return None
    start, end = _clock(record["start"]), _clock(record["end"])
    assert start is not None and end is not None
    starts_at = datetime.combine(day, start, zone)
    ends_at = datetime.combine(day if end > start else day + timedelta(days=1), end, zone)
    # In UTC: between two wall times of one zone Python subtracts the wall clocks, and on the
    # day clocks go forward 02:30 → 03:00 is 30 minutes of wall clock ending before it begins.
    if not timedelta(0) < ends_at.astimezone(UTC) - starts_at.astimezone(UTC) <= MAX_SHIFT:
        errors.append(RowError(number, "em.duty.bad_span", {}, "end"))
        return None
    leader = normalize_user(record["leader"], server) if record["leader"] else None
    if record["leader"] and leader is None:
        errors.append(RowError(number, "em.csv.bad_user", {"value": record["leader"][:60]}, "leader"))
        return None
    officers: list[str] = []
    for word in filter(None, _PEOPLE_SPLIT.split(record["officers"])):
        user = normalize_user(word, server)
        if user is None:
            errors.append(RowError(number, "em.csv.bad_user", {"value": word[:60]}, "officers"))
            return None
        officers.append(user)
    if leader is None and not officers:
        errors.append(RowError(number, "em.csv.nobody", {}, "leader"))
        return None
    phones = _parse_phones(record.get("phone", ""), leader, officers, server)
    if isinstance(phones, RowError):
        phones.line = number
        errors.append(phones)
        return None
    return ShiftRow(number, starts_at, ends_at, leader, officers, record.get("note") or None, phones)


def _parse_phones(cell: str, leader: str | None, officers: list[str], server: str) -> dict[str, str] | RowError:
    """The phone cell of one line: user id → number (digits, a leading + kept)."""
    found: dict[str, str] = {}
    for entry in filter(None, (e.strip() for e in _PHONE_SPLIT.split(cell))):
        who_text, sep, number = entry.replace("＝", "=").rpartition("=")
        who = normalize_user(who_text, server) if sep else leader
        if who is None or who not in (leader, *officers):
            return RowError(0, "em.csv.phone_who", {"value": entry[:60]}, "phone")
        if not _PHONE.match(number.strip()):
            return RowError(0, "em.csv.bad_phone", {"value": number.strip()[:40]}, "phone")
        found[who] = re.sub(r"[ \-]", "", number.strip())
    return found


async def import_roster(session: AsyncSession, parsed: ParsedRoster, *, actor: str, clock: Clock) -> int:
    """Import all rows, or none when any line is bad (a half-imported roster helps nobody)."""
    if parsed.errors:
        raise DomainError("em.csv.rejected", count=len(parsed.errors))
    if not parsed.rows:
        raise DomainError("em.csv.empty")
    for row in parsed.rows:
        await set_shift(
            session,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            leader=row.leader,
            officers=row.officers,
            actor=actor,
            clock=clock,
            note=row.note,
        )
    await keep_phones(session, {u: n for row in parsed.rows for u, n in row.phones.items()}, actor=actor, clock=clock)
    return len(parsed.rows)


async def keep_phones(session: AsyncSession, phones: dict[str, str], *, actor: str, clock: Clock) -> None:
    """Keep the phone numbers a roster gave (user id → number), audited."""
    if phones:
        await people.keep_phones(session, phones)
        await audit.record(session, actor=actor, action="people.phones", subject="roster", data=phones, clock=clock)


# -- hand-over ---------------------------------------------------------------------------------
async def hand_over(session: AsyncSession, *, actor: str, notes: str, room_id: str, clock: Clock) -> Handover:
    """Log a hand-over note for the next shift (its people are the ones asked to acknowledge)."""
    if not notes.strip():
        raise DomainError("em.handover.empty")
    now = clock.now()
    current, upcoming = await now_and_next(session, now)
    to_users = upcoming.people if upcoming else []
    item = Handover(from_user=actor, notes=notes.strip(), room_id=room_id, to_users=to_users, created_at=now)
    session.add(item)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="duty.handover",
        subject=f"H{item.id}",
        data={"notes": item.notes, "to": to_users, "shift": current.id if current else None},
        clock=clock,
    )
    return item


async def ack_handover(session: AsyncSession, handover_id: int, *, user: str, clock: Clock) -> Handover:
    item = await session.get(Handover, handover_id)
    if item is None:
        raise NotFound("em.handover.not_found", id=f"H{handover_id}")
    if item.to_users and user not in item.to_users:
        raise NotAllowed("em.handover.not_yours", id=f"H{handover_id}")
    if user == item.from_user:
        raise NotAllowed("em.handover.own")
    if item.acked_at is None:
        item.acked_by = user
        item.acked_at = clock.now()
        await audit.record(session, actor=user, action="duty.handover_ack", subject=f"H{item.id}", clock=clock)
    return item


async def last_handover(session: AsyncSession) -> Handover | None:
    return await session.scalar(select(Handover).order_by(Handover.id.desc()).limit(1))


# -- the duty log ------------------------------------------------------------------------------
LOG_KEYS = {
    "source": ("source", "来源", "来电单位", "报告单位"),
    "reporter": ("reporter", "报告人", "来电人"),
    "contact": ("contact", "phone", "电话", "联系方式", "联系电话"),
    "told": ("told", "notified", "已告知", "告知", "已报告"),
    "time": ("time", "时间", "来电时间"),
}
# A key starts where a run of letters starts (the look-behind) and is read possessively: tried
# at every letter of a long run without a colon, the search would be quadratic.
_LOG_FIELD = re.compile(
    r"(?<![A-Za-z\u4e00-\u9fff])(?P<key>[A-Za-z\u4e00-\u9fff]++)[:：]\s*+(?P<value>[^\s]++(?:\s++@[^\s]++)*+)"
)


@dataclass
class LogFields:
    content: str
    source: str | None = None
    reporter: str | None = None
    contact: str | None = None
    told: list[str] = field(default_factory=list)
    time_text: str | None = None


@bounded
def parse_log_text(text: str) -> LogFields:
    """`来源:区应急局 报告人:王五 电话:138… 已告知:@a @b <content>`; unknown keys stay in the content."""
    values: dict[str, str] = {}

    def take(match: re.Match[str]) -> str:
        key = match.group("key").lower()
        for name, words in LOG_KEYS.items():
            if key in words:
                values[name] = match.group("value")
                return " "
        return match.group(0)

    rest = _LOG_FIELD.sub(take, text)
    told = re.findall(r"@\S+", values.get("told", ""))
    return LogFields(
        content=" ".join(rest.split()),
        source=values.get("source"),
        reporter=values.get("reporter"),
        contact=values.get("contact"),
        told=told,
        time_text=values.get("time"),
    )


async def add_log(
    session: AsyncSession,
    fields: LogFields,
    *,
    actor: str,
    clock: Clock,
    received_at: datetime | None = None,
    incident_id: int | None = None,
) -> LogEntry:
    if not fields.content:
        raise DomainError("em.log.empty")
    entry = LogEntry(
        received_at=received_at or clock.now(),
        source=fields.source,
        reporter=fields.reporter,
        contact=fields.contact,
        content=fields.content,
        told=fields.told,
        recorded_by=actor,
        incident_id=incident_id,
        created_at=clock.now(),
    )
    session.add(entry)
    await session.flush()
    await audit.record(
        session,
        actor=actor,
        action="duty.log",
        subject=f"L{entry.id}",
        data={"content": entry.content, "source": entry.source, "reporter": entry.reporter, "told": entry.told},
        clock=clock,
    )
    return entry


async def log_since(session: AsyncSession, since: datetime, limit: int = 30) -> list[LogEntry]:
    rows = await session.scalars(
        select(LogEntry).where(LogEntry.received_at >= since).order_by(LogEntry.received_at).limit(limit)
    )
    return list(rows)
