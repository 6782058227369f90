"""Durable timers and the pump that runs them.

A timer is a row with a due time. The pump claims due rows for a while (a lease) and hands
their ids to a transport (rq in production, a direct call in the bot-less test setup). If the
transport loses a job, for example because Redis was flushed or the worker was killed, the
lease lapses and the next pump claims the timer again, so nothing scheduled is ever lost.

The lease is short (seconds, so a lost job delays its timer by no more than that) and the job
renews it while it runs (`run_batch`), so a slow job is never handed to a second worker. Each
claim round has a token, and a job runs only the timers its token still holds (`_take`): a job
that waited in the queue past its lease, whose timers were claimed again into another job,
runs none of them, so even a timer doing network work fires once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from records import timer_metrics
from records.clock import Clock, as_utc
from records.db import Database
from records.models import Timer

log = logging.getLogger(__name__)

# Short, so that a lost job is noticed within seconds (a grade I order must be acknowledged
# within 5 minutes); a running job renews it every HEARTBEAT_FRACTION of it.
CLAIM_LEASE = timedelta(seconds=8)
HEARTBEAT_FRACTION = 4
MAX_ATTEMPTS = 8
CLAIM_BATCH = 100
# A worker's batch: timers that run in a transaction share one, this many at a time; I/O timers (network sends, transcriptions) run this many side by side.
TRANSACTION_BATCH = 50
IO_CONCURRENCY = 8
# The shortest nap of the pump: a timer that is due but not claimable (another pump holds it
# for the moment) must not make it spin.
MIN_WAIT_SECONDS = 0.02


@dataclass
class Fired:
    """What a timer handler may ask for after running: to be run again at a later time."""

    again_at: datetime | None = None


TimerHandler = Callable[[AsyncSession, Timer, Clock], Awaitable[Fired | None]]
# A handler that does slow I/O (a network send, a transcription) gets the database instead of
# a session and keeps its own transactions short: on SQLite a transaction held open during
# I/O would hold the write lock and stall the bot.
IOTimerHandler = Callable[[Database, Timer, Clock], Awaitable[Fired | None]]


class TimerRegistry:
    """Maps a timer kind ("task.remind", "report.due" …) to the service function that runs it."""

    def __init__(self) -> None:
        self._handlers: dict[str, TimerHandler] = {}
        self._io_handlers: dict[str, IOTimerHandler] = {}

    def register(self, kind: str) -> Callable[[TimerHandler], TimerHandler]:
        """A handler run inside one transaction with the timer's completion (exactly once)."""

        def decorate(handler: TimerHandler) -> TimerHandler:
            self._handlers[kind] = handler
            return handler

        return decorate

    def register_io(self, kind: str) -> Callable[[IOTimerHandler], IOTimerHandler]:
        """A handler that manages its own transactions around slow I/O.

        If the process dies mid-way, the claim lapses and the handler runs again, so it must
        check what it already did (at least once, made idempotent by the handler).
        """

        def decorate(handler: IOTimerHandler) -> IOTimerHandler:
            self._io_handlers[kind] = handler
            return handler

        return decorate

    def get(self, kind: str) -> TimerHandler | None:
        return self._handlers.get(kind)

    def get_io(self, kind: str) -> IOTimerHandler | None:
        return self._io_handlers.get(kind)


async def schedule(
    session: AsyncSession,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    clock: Clock,
) -> Timer:
    """Add a timer, or move the pending one that has the same key."""
    session.info["timers_scheduled"] = True
    if key is not None:
        existing = await session.scalar(select(Timer).where(Timer.key == key))
        if existing is not None:
            existing.due_at = due_at
            existing.payload = payload or {}
            existing.status = "pending"
            existing.claimed_until = None
            existing.claim_token = None
            existing.attempts = 0
            await session.flush()
            return existing
    timer = Timer(
        kind=kind,
        key=key,
        due_at=due_at,
        payload=payload or {},
        status="pending",
        attempts=0,
        created_at=clock.now(),
    )
    session.add(timer)
    await session.flush()
    return timer


async def cancel(session: AsyncSession, key: str) -> bool:
    result = await session.execute(
        update(Timer).where(Timer.key == key, Timer.status.in_(("pending", "claimed"))).values(status="cancelled")
    )
    return bool(getattr(result, "rowcount", 0))


async def cancel_prefix(session: AsyncSession, prefix: str) -> int:
    result = await session.execute(
        update(Timer)
        .where(Timer.key.startswith(prefix, autoescape=True), Timer.status.in_(("pending", "claimed")))
        .values(status="cancelled")
    )
    return int(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class Claim:
    """One round of claims: the timers it holds and the token that marks them as its own."""

    token: str
    ids: list[int]


def _new_token() -> str:
    return secrets.token_hex(16)


# A run's token (hex never holds an "r"): a timer a run holds is being run, not waiting in a queue.
RUN_PREFIX = "r"


async def claim_round(db: Database, clock: Clock, limit: int = CLAIM_BATCH, *, lease: timedelta = CLAIM_LEASE) -> Claim:
    """Claim the due timers (and those whose earlier claim lapsed) under a fresh token.

    A claim that lapses is handed out again under a new token: the job that carried the old
    one (it waited in the queue past its lease) then finds nothing of its own and runs nothing.
    A running job renews the claims it took (`run_batch`).
    """
    now, token = clock.now(), _new_token()
    async with db.transaction() as session:
        query = (
            select(Timer.id)
            .where(
                Timer.due_at <= now,
                or_(
                    Timer.status == "pending",
                    (Timer.status == "claimed") & (Timer.claimed_until < now),
                ),
            )
            .order_by(Timer.due_at)
            .limit(limit)
        )
        if not db.is_sqlite:
            # Several pumps may run (one per worker machine); each row goes to one of them.
            query = query.with_for_update(skip_locked=True)
        ids = list(await session.scalars(query))
        if ids:
            # One statement for the whole batch (the rows are locked above on PostgreSQL; on
            # SQLite the transaction holds the write lock).
            await session.execute(
                update(Timer)
                .where(Timer.id.in_(ids))
                .values(status="claimed", claimed_until=now + lease, claim_token=token)
            )
        return Claim(token, ids)


async def claim_due(
    db: Database, clock: Clock, limit: int = CLAIM_BATCH, *, lease: timedelta = CLAIM_LEASE
) -> list[int]:
    """`claim_round`, for callers that run the timers by id (`run_timer`)."""
    return (await claim_round(db, clock, limit, lease=lease)).ids


async def _take(
    db: Database, ids: list[int], clock: Clock, lease: timedelta, token: str | None
) -> tuple[str, dict[int, Timer]]:
    """Make the timers this run's own, under a token of its own; the rows it took.

    With the claim's token, only the timers that token still holds are taken: a re-claimed
    timer went to another job. Without one (a job queued by an older version, or `run_timer`
    called by id), a timer is taken as it stands: claimed, or pending and due, and still holding
    the token read a moment before (compare and swap), so two such runs never both take it,
    and not held by another run (it is being run) unless that run's lease lapsed.
    Either way a timer moved to a later time (pending, not due) is not taken: a stale job must
    not fire it. The run token also makes the same job delivered twice run once.
    """
    run, now = RUN_PREFIX + secrets.token_hex(15), clock.now()
    taken: dict[int, Timer] = {}
    async with db.transaction() as session:
        if token is not None:
            conditions = [Timer.id.in_(ids) & (Timer.status == "claimed") & (Timer.claim_token == token)]
        else:
            seen: dict[str | None, list[int]] = {}
            for timer_id, held_by in await session.execute(
                select(Timer.id, Timer.claim_token).where(Timer.id.in_(ids))
            ):
                seen.setdefault(held_by, []).append(timer_id)
            # Not a timer another run holds (it is running it now), unless that run's lease lapsed.
            free = (
                Timer.claim_token.is_(None) | Timer.claim_token.not_like(f"{RUN_PREFIX}%") | (Timer.claimed_until < now)
            )
            runnable = ((Timer.status == "claimed") & free) | ((Timer.status == "pending") & (Timer.due_at <= now))
            conditions = [
                Timer.id.in_(group)
                & (Timer.claim_token.is_(None) if held_by is None else Timer.claim_token == held_by)
                & runnable
                for held_by, group in seen.items()
            ]
        for condition in conditions:
            rows = await session.scalars(
                update(Timer)
                .where(condition)
                .values(status="claimed", claim_token=run, claimed_until=now + lease)
                .returning(Timer),
                execution_options={"synchronize_session": False},
            )
            taken.update((timer.id, timer) for timer in rows)
    return run, {i: taken[i] for i in ids if i in taken}  # in the claim's order (due first)


async def run_timer(
    db: Database, timer_id: int, registry: TimerRegistry, clock: Clock, *, lease: timedelta = CLAIM_LEASE
) -> str:
    """Run one timer by id (claimed, or pending and due), exactly as `run_batch` runs it."""
    return (await run_batch(db, [timer_id], registry, clock, lease=lease)).get(timer_id, "skipped")


async def run_batch(
    db: Database,
    timer_ids: Sequence[int],
    registry: TimerRegistry,
    clock: Clock,
    *,
    token: str | None = None,
    lease: timedelta = CLAIM_LEASE,
    heartbeat_seconds: float | None = None,
    io_concurrency: int = IO_CONCURRENCY,
) -> dict[int, str]:
    """Run a batch of claimed timers (the worker's job), renewing their claims while it runs.

    First the batch takes its timers (`_take`, with the claim's `token`): those another job
    holds by now are "skipped". The timers that run inside a transaction share one,
    TRANSACTION_BATCH at a time: their effects and done marks commit together (exactly once,
    with one write lock and one commit instead of one per timer). If one of them fails, that
    transaction is rolled back whole and its timers run again one by one, so the failure is
    recorded for that timer alone. The I/O timers run side by side; none of them outlives the
    batch (a job cancelled by rq's timeout or a shutdown cancels and awaits them).
    """
    ids = list(dict.fromkeys(timer_ids))
    run, taken = await _take(db, ids, clock, lease, token)
    outcomes = {i: "skipped" for i in ids if i not in taken}
    if not taken:
        return outcomes
    every = heartbeat_seconds if heartbeat_seconds is not None else lease.total_seconds() / HEARTBEAT_FRACTION
    heartbeat = asyncio.create_task(
        _batch_heartbeat(db, list(taken), run, clock, lease, every), name="timer-batch-heartbeat"
    )
    try:
        io_timers = [t for t in taken.values() if registry.get_io(t.kind) is not None]
        plain = [t for t in taken.values() if registry.get_io(t.kind) is None]
        gate = asyncio.Semaphore(io_concurrency)

        async def run_io(timer: Timer) -> None:
            async with gate:
                outcomes[timer.id] = await _run_io_timer(db, timer, registry, clock, run)

        async with asyncio.TaskGroup() as io_runs:
            for timer in io_timers:
                io_runs.create_task(run_io(timer), name=f"timer-{timer.id}")
            for start in range(0, len(plain), TRANSACTION_BATCH):
                outcomes.update(await _run_together(db, plain[start : start + TRANSACTION_BATCH], registry, clock, run))
        return outcomes
    finally:
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)


def _observe(timer: Timer, started: datetime, outcome: str, seconds: float) -> None:
    timer_metrics.observe(
        timer.id,
        timer.kind,
        as_utc(timer.due_at),
        started,
        outcome=outcome,
        seconds=seconds,
        key=timer.key,
        payload=dict(timer.payload or {}),
    )


async def _run_together(
    db: Database, batch: list[Timer], registry: TimerRegistry, clock: Clock, run: str
) -> dict[int, str]:
    started, began = clock.now(), time.perf_counter()
    ids = [t.id for t in batch]
    outcomes: dict[int, str] = {}
    try:
        async with db.transaction() as session:
            query = select(Timer).where(Timer.id.in_(ids)).order_by(Timer.id)
            if not db.is_sqlite:
                query = query.with_for_update()
            for timer in list(await session.scalars(query)):
                outcomes[timer.id] = await _run_in_batch(session, timer, registry, clock, run)
    except Exception:
        # A handler failed (or the shared commit did): the whole transaction is rolled back, so
        # nothing of it happened, and each timer runs again on its own, failing only for itself.
        log.warning("a batch of %d timers failed; running them one by one", len(ids), exc_info=True)
        return {t.id: await _run_alone(db, t, registry, clock, run) for t in batch}
    seconds = (time.perf_counter() - began) / max(1, len(ids))
    for timer in batch:
        _observe(timer, started, outcomes.setdefault(timer.id, "skipped"), seconds)
    return outcomes


async def _run_alone(db: Database, seen: Timer, registry: TimerRegistry, clock: Clock, run: str) -> str:
    """One timer of a failed batch, in a transaction of its own; a failure is noted on it."""
    started, began = clock.now(), time.perf_counter()
    try:
        async with db.transaction() as session:
            query = select(Timer).where(Timer.id == seen.id)
            if not db.is_sqlite:
                query = query.with_for_update()
            timer = await session.scalar(query)
            outcome = "skipped" if timer is None else await _run_in_batch(session, timer, registry, clock, run)
    except Exception as exc:
        outcome = await _failed(db, seen.id, exc, clock, run)
    _observe(seen, started, outcome, time.perf_counter() - began)
    return outcome


async def _run_in_batch(session: AsyncSession, timer: Timer, registry: TimerRegistry, clock: Clock, run: str) -> str:
    if not _own(timer, run):
        return "skipped"
    handler = registry.get(timer.kind)
    if handler is None:
        timer.status = "failed"
        timer.last_error = f"no handler for timer kind {timer.kind!r}"
        timer.claim_token = None
        return "failed"
    # Who a message is attributed to belongs to one unit of work, not to the batch.
    session.info.pop("caused_by", None)
    _settle(timer, await handler(session, timer, clock), clock)
    return "done"


def _settle(timer: Timer, fired: Fired | None, clock: Clock) -> None:
    """Mark a timer whose handler ran: done, or pending again at the time it asked for."""
    if fired is not None and fired.again_at is not None:
        timer.due_at = fired.again_at
        timer.status = "pending"
        timer.attempts = 0
    elif timer.status != "cancelled":
        timer.status = "done"
        timer.done_at = clock.now()
    timer.claimed_until = None
    timer.claim_token = None


def _note_failure(timer: Timer, exc: Exception, clock: Clock) -> None:
    """A failed run: retried later with back-off, given up after MAX_ATTEMPTS."""
    timer.attempts += 1
    timer.last_error = repr(exc)[:2000]
    if timer.attempts >= MAX_ATTEMPTS:
        timer.status = "failed"
    else:
        timer.status = "pending"
        timer.due_at = clock.now() + timedelta(seconds=min(600, 5 * 2**timer.attempts))
    timer.claimed_until = None
    timer.claim_token = None


async def _failed(db: Database, timer_id: int, exc: Exception, clock: Clock, run: str) -> str:
    """Note a failure on a timer this run still holds (not on one moved or cancelled meanwhile)."""
    log.error("timer %s failed", timer_id, exc_info=exc)
    async with db.transaction() as session:
        timer = await _held(session, db, timer_id)
        if timer is not None and _own(timer, run):
            _note_failure(timer, exc, clock)
    return "error"


async def extend_claims(
    db: Database, timer_ids: Sequence[int], run: str, clock: Clock, lease: timedelta = CLAIM_LEASE
) -> int:
    """Renew the claims a running batch holds (one statement); how many it still holds.

    On a connection apart from the pool (`Database.apart`): the batch's own jobs may hold every
    pooled connection for longer than the lease, and a heartbeat waiting behind them let the
    claims lapse, so that the same DMs and transcriptions ran twice.
    """
    async with db.apart() as session:
        result = await session.execute(
            update(Timer)
            .where(Timer.id.in_(list(timer_ids)), Timer.status == "claimed", Timer.claim_token == run)
            .values(claimed_until=clock.now() + lease)
        )
        return int(getattr(result, "rowcount", 0))


async def _batch_heartbeat(
    db: Database, ids: list[int], run: str, clock: Clock, lease: timedelta, every: float
) -> None:
    # The take has just set the claims: the first renewal is due one beat later.
    while True:
        await asyncio.sleep(every)
        try:
            if not await extend_claims(db, ids, run, clock, lease):
                return  # finished, moved or cancelled: nothing to hold any more
        except Exception:  # a busy database: the next beat tries again, well within the lease
            log.warning("could not renew the claims of a batch of %d timers", len(ids), exc_info=True)


async def _held(session: AsyncSession, db: Database, timer_id: int) -> Timer | None:
    """A timer read for its completion, locked until the commit on PostgreSQL.

    Unlocked, a turn moving the timer (schedule() with its key) could commit between this read
    and the completion's write, which then overwrote the new plan with "done" and the timer
    never fired. Locked, the read waits for that turn and sees the token it cleared. (SQLite's
    transaction holds the write lock from its start, so nothing commits in between.)
    """
    return await session.get(Timer, timer_id, with_for_update=not db.is_sqlite, populate_existing=True)


def _own(timer: Timer, run: str) -> bool:
    """Still held by this run: not finished, moved, cancelled or taken by another job since."""
    return timer.status == "claimed" and timer.claim_token == run


async def _run_io_timer(db: Database, timer: Timer, registry: TimerRegistry, clock: Clock, run: str) -> str:
    started, began = clock.now(), time.perf_counter()
    handler = registry.get_io(timer.kind)
    assert handler is not None
    outcome = "done"
    try:
        fired = await handler(db, timer, clock)
        async with db.transaction() as session:
            current = await _held(session, db, timer.id)
            # Cancelled, moved (or, after a lapsed lease, taken) while the handler ran: the
            # new plan stands, and this run is "lost" — the run holding the timer now reports
            # its completion, so the figures count the timer once.
            if current is None or not _own(current, run):
                outcome = timer_metrics.LOST
            else:
                if fired is not None and fired.again_at is not None:
                    current.payload = timer.payload
                _settle(current, fired, clock)
    except Exception as exc:
        outcome = await _failed(db, timer.id, exc, clock, run)
    _observe(timer, started, outcome, time.perf_counter() - began)
    return outcome


async def next_due(db: Database) -> datetime | None:
    """When the earliest pending timer is due (None when none is pending).

    One step down the (status, due_at) index, however many timers are pending.
    """
    async with db.reading() as session:
        return await session.scalar(select(func.min(Timer.due_at)).where(Timer.status == "pending"))


Transport = Callable[[int], Awaitable[None]]
# Hands a whole claimed batch, with its claim's token, to one job (the worker's rq transport):
# one job per round of claims instead of one per timer.
BatchTransport = Callable[[Claim], Awaitable[None]]
# Whether the carrier has room for another batch. While the queue is full the pump claims
# nothing: the timers wait in the database, not as claims that lapse in the queue and are
# claimed again into ever more jobs.
HasRoom = Callable[[], Awaitable[bool]]
# How soon a pump whose carrier was full looks again. A batch finishing in the pump's own
# process wakes it at once (zhiban.jobs.after_batch); this bounds the wait on other workers'.
FULL_WAIT_SECONDS = 0.25


class TimerPump:
    """Claims due timers and hands them to the transport.

    It wakes at the due time of the earliest pending timer, and at least every `interval`
    seconds (for timers scheduled meanwhile by other processes, and lapsed claims). Polling
    only every `interval` made timers up to a whole interval late (p99 ≈ 1 s at the worker's
    1 s, see bench/timer_lateness.py); the extra look-up is one index probe.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        transport: Transport | None = None,
        *,
        batch_transport: BatchTransport | None = None,
        interval: float = 1.0,
        lease: timedelta = CLAIM_LEASE,
        has_room: HasRoom | None = None,
    ) -> None:
        if (transport is None) == (batch_transport is None):
            raise ValueError("give a transport or a batch_transport")
        self.db = db
        self.batch_transport = batch_transport
        self.has_room = has_room
        self._full = False
        self.lease = lease
        self.clock = clock
        self.transport = transport
        self.interval = interval
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look now: another process has just scheduled something (see zhiban.wakeup)."""
        self._wake.set()

    async def pump_once(self) -> int:
        self._full = self.has_room is not None and not await self.has_room()
        if self._full:
            return 0
        claim = await claim_round(self.db, self.clock, lease=self.lease)
        timer_metrics.CLAIMED.inc(len(claim.ids))
        if self.batch_transport is not None:
            if claim.ids:
                await self.batch_transport(claim)
            return len(claim.ids)
        assert self.transport is not None
        for timer_id in claim.ids:
            await self.transport(timer_id)
        return len(claim.ids)

    async def wait_time(self, claimed: int) -> float:
        """Seconds to sleep after a round that claimed `claimed` timers."""
        if self._full:
            return FULL_WAIT_SECONDS  # a job will be picked up soon and make room
        if claimed >= CLAIM_BATCH:
            return 0.0  # a backlog: keep claiming
        due = await next_due(self.db)
        if due is None:
            return self.interval
        until = (due - self.clock.now()).total_seconds()
        return min(self.interval, max(MIN_WAIT_SECONDS, until))

    async def run(self) -> None:
        while not self._stop.is_set():
            wait = self.interval
            # Cleared before the round, not after it: a wake-up that comes while the round runs
            # (a job of this process has just made room) is not lost.
            self._wake.clear()
            try:
                wait = await self.wait_time(await self.pump_once())
            except Exception:
                log.exception("timer pump failed; retrying")
            if wait <= 0:
                continue
            stop, woken = asyncio.ensure_future(self._stop.wait()), asyncio.ensure_future(self._wake.wait())
            await asyncio.wait({stop, woken}, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            woken.cancel()

    def stop(self) -> None:
        self._stop.set()
