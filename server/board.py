"""The board (一屏知全局): its JSON, its live stream and the actions taken from it.

The server knows no feature. What it needs from them is the `BoardSource` below, which the
application wires (zhiban.board_wiring): a snapshot of one person's board, an action taken
as that person, and a watch that calls back whenever a commit may have changed a board.

The stream is Server-Sent Events. Each event's id is a digest of the snapshot it carries, so
a browser that reconnects with `Last-Event-ID` gets nothing new when nothing changed and the
current snapshot otherwise, from any copy of the server (no per-connection state to keep).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import logging
import random
import re
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import sessions
from notifications.models import WebSession
from records.clock import as_utc
from server.errors import ApiError
from server.push_api import json_body
from server.session import current_user, session_secret

log = logging.getLogger(__name__)

#: The sections the page knows, in the order it shows them.
SECTIONS = ("emergency", "approvals", "tasks", "meetings", "duty", "notices")
#: What can be done from the board (the features' board contract names the same kinds);
#: the source decides which items allow which.
KINDS = ("approve", "reject", "ack", "progress", "done", "rsvp_yes", "rsvp_no")
LANGS = ("zh", "en")
# A comment line now and then keeps proxies from closing a quiet stream and notices a gone client.
KEEPALIVE_SECONDS = 15.0
RETRY_MS = 2000
READS_AT_ONCE = 4
# Boards read together in one go when a change names what it changed (see BoardSource.read_many).
MANY_AT_ONCE = 200
# A stream ends after this long and the browser reconnects (with Last-Event-ID, so nothing is
# sent again): a server that is stopping waits for no board for longer, and a load balancer
# spreads the boards again over the copies it has now.
STREAM_SECONDS = 300.0
# Wake-ups this close together are read as one.
COALESCE_SECONDS = 0.01
# A session checked this recently still holds for a stream woken again by the same wake-up.
SESSION_CHECK_SECONDS = 5.0
REFRESH_SECONDS = 60.0
REFRESH_SLICES = 60
# Open streams one person may hold (tabs, phones); a new one beyond ends their oldest, so a
# script opening streams in a loop holds this many connections, not one per request.
STREAMS_PER_PERSON = 6

JsonObject = dict[str, object]


@dataclass(frozen=True)
class BoardChange:
    """What a commit may have changed: these sections (None: any) of these people's boards
    (None: anyone's). It only decides who reads again and what: each board is still read as
    its own person, so naming too much costs a read and naming nothing is never a leak."""

    sections: frozenset[str] | None = None
    people: frozenset[str] | None = None

    def touches(self, user_id: str) -> bool:
        return self.people is None or user_id in self.people

    def __or__(self, other: BoardChange) -> BoardChange:
        return BoardChange(_union(self.sections, other.sections), _union(self.people, other.people))


#: A change nobody named: every open board reads itself whole again.
EVERYTHING = BoardChange()


def _union(one: frozenset[str] | None, other: frozenset[str] | None) -> frozenset[str] | None:
    return None if one is None or other is None else one | other


#: Which of these session secrets are still signed in: secret -> user, for the live ones.
SessionCheck = Callable[[Collection[str]], Awaitable[Mapping[str, str]]]


@dataclass(frozen=True)
class BoardAction:
    """One action from the board. `key` is the browser's idempotency key: a double tap or a
    retry sends the same key, and the source answers it with the first outcome."""

    kind: str
    ref: str
    key: str
    opinion: str = ""
    percent: int | None = None
    lang: str = "zh"


@dataclass(frozen=True)
class ActionOutcome:
    """What the action did, said in the person's language; `status` is the HTTP status."""

    status: int
    code: str
    message: str
    replayed: bool = False
    # Where the page goes next (a binding step's confirmation page, /confirm/<token>), if anywhere.
    next: str | None = None
    # What the action changed, for this copy's open boards (the source knows; by default all).
    change: BoardChange = field(default_factory=lambda: EVERYTHING)

    def as_json(self) -> JsonObject:
        answer: JsonObject = {"ok": self.status < 400, "code": self.code, "message": self.message}
        answer["replayed"] = self.replayed
        if self.next:
            answer["next"] = self.next
        return answer


Key = tuple[str, str]  # (person, language)


class BoardSource(Protocol):
    async def snapshot(
        self, user_id: str, lang: str, *, only: frozenset[str] | None = None, previous: JsonObject | None = None
    ) -> JsonObject:
        """The person's board, as JSON: `{"now": iso, "sections": [{"key", "title", "lines", "empty",
        "items": [{"ref", "title", "lines", "late", "due", "group", "actions": [{"kind", "label"}]}]}]}`.

        With `only` and `previous` (this person's board read before, in this language), the source
        may read just those sections again and keep the others from `previous`."""
        ...

    async def read_many(self, only: frozenset[str], boards: Mapping[Key, JsonObject]) -> dict[Key, JsonObject]:
        """Many people's boards at once (person, language -> their board read before): each read
        again as that person in the sections `only`, the rest kept; a board left out of the
        answer is read on its own."""
        ...

    async def act(self, user_id: str, action: BoardAction) -> ActionOutcome:
        """Do it through the same service as chat, exactly once per (user, key)."""
        ...

    async def watch(self, on_change: Callable[[BoardChange], None]) -> None:
        """Call `on_change` after every commit that may change a board; runs until cancelled."""
        ...


async def live_sessions(session: AsyncSession, secrets: Collection[str], now: datetime) -> dict[str, str]:
    """Which of these session secrets still sign someone in (secret -> user): one query for
    every open stream, where each asking for its own would be one per stream per wake-up."""
    hashed = {sessions.secret_hash(secret): secret for secret in secrets if secret and len(secret) <= 128}
    tokens = list(hashed)
    live: dict[str, str] = {}
    for start in range(0, len(tokens), 500):  # within every database's limit of bound values
        rows = await session.execute(
            select(WebSession.token_hash, WebSession.user_id, WebSession.expires_at).where(
                WebSession.token_hash.in_(tokens[start : start + 500])
            )
        )
        live.update((hashed[token], user) for token, user, expires in rows if now < as_utc(expires))
    return live


def digest(snapshot: JsonObject) -> str:
    body = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass
class _Open:
    """One open stream: whose, under which session, and whether it was ended from outside."""

    user: str
    secret: str
    ended: bool = False


@dataclass
class BoardHub:
    """Wakes the open streams a change concerns and keeps, per person and language, the board
    last read, so that a change re-reads only its sections of only the boards it names.

    Wake-ups that come close together (a turn publishes, the action's copy wakes at once) are
    taken as one: the first starts a short wait, and everything named meanwhile is read once.
    Every wake-up also checks the sessions of all open streams in one query, inside the gate,
    so a signed-out person's stream ends before it is sent anything more.
    """

    source: BoardSource
    version: int = 0
    _open: dict[asyncio.Event, _Open] = field(default_factory=dict)
    _by_person: dict[str, list[asyncio.Event]] = field(default_factory=dict)
    _shared: dict[Key, tuple[int, asyncio.Future[JsonObject]]] = field(default_factory=dict)
    _boards: dict[Key, JsonObject] = field(default_factory=dict)
    # Sections changed since a board was last read (None: all of them); no entry: none changed.
    _stale: dict[Key, frozenset[str] | None] = field(default_factory=dict)
    # Reads under way, each with the sections it reads again (None: all): a read that begins
    # meanwhile reads those too, since the board it starts from is older than they will be.
    _inflight: dict[Key, dict[int, frozenset[str] | None]] = field(default_factory=dict)
    _kept: dict[Key, int] = field(default_factory=dict)  # the read whose board `_boards` holds
    _tickets: Iterator[int] = field(default_factory=itertools.count)
    _batches: set[asyncio.Task[None]] = field(default_factory=set)
    _pending: BoardChange | None = None
    _flush: asyncio.TimerHandle | None = None
    _check: SessionCheck | None = None
    _checked: tuple[int, float, asyncio.Task[Mapping[str, str]]] | None = None
    _watch: asyncio.Task[None] | None = None
    _tick: asyncio.Task[None] | None = None
    # A change may wake every open board at once; a few reads at a time keep the database pool
    # from being queued on and let the first boards out early instead of all at the end.
    _reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS_AT_ONCE))

    def changed(self, change: BoardChange = EVERYTHING) -> None:
        self._pending = change if self._pending is None else self._pending | change
        if self._flush is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._apply()
            return
        self._flush = loop.call_later(COALESCE_SECONDS, self._apply)

    def _apply(self) -> None:
        change, self._pending, self._flush = self._pending or EVERYTHING, None, None
        self.version += 1
        if change.sections == frozenset():
            return  # a commit that changed nothing any board shows
        # A board being read now is marked too: its read may have begun before the commit.
        due = []
        for key in {*self._boards, *self._shared}:
            if change.touches(key[0]):
                stale = self._stale.get(key, frozenset())
                self._stale[key] = _union(stale, change.sections)
                if key in self._boards and key[0] in self._by_person:
                    due.append(key)
        if due and change.sections is not None:
            self._read_together(due)
        for event, stream in self._open.items():
            if change.touches(stream.user):
                event.set()

    @contextmanager
    def waiter(self, user_id: str, secret: str = "", check: SessionCheck | None = None) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._open[event] = _Open(user_id, secret)
        if check is not None:
            self._check = check
        mine = self._by_person.setdefault(user_id, [])
        mine.append(event)
        if len(mine) > STREAMS_PER_PERSON:
            self._end(mine.pop(0))
        try:
            yield event
        finally:
            self._open.pop(event, None)
            if event in mine:
                mine.remove(event)
            if not mine and self._by_person.get(user_id) is mine:
                del self._by_person[user_id]
                self._forget(user_id)

    def _end(self, event: asyncio.Event) -> None:
        stream = self._open.get(event)
        if stream is not None:
            stream.ended = True
        event.set()

    def _forget(self, user_id: str) -> None:
        # Nobody of theirs is watching: their boards would only go stale here.
        for key in [key for key in {*self._boards, *self._shared} if key[0] == user_id]:
            self._boards.pop(key, None)
            self._stale.pop(key, None)
            self._shared.pop(key, None)
            self._kept.pop(key, None)

    def ended(self, waiter: asyncio.Event) -> bool:
        """Whether this stream was ended: for a newer one of the same person, or signed out."""
        stream = self._open.get(waiter)
        return stream is None or stream.ended

    @property
    def listeners(self) -> int:
        return len(self._open)

    async def signed_in(self, waiter: asyncio.Event) -> bool:
        """Whether the stream's session still holds, as of the latest wake-up: one query for all
        open streams, shared by every stream that wakes; a stream signed out is ended."""
        stream = self._open.get(waiter)
        if stream is None or self._check is None:
            return stream is not None
        now = asyncio.get_running_loop().time()
        checked = self._checked
        if (
            checked is None
            or checked[0] != self.version
            or now - checked[1] > SESSION_CHECK_SECONDS  # a quiet stream still notices a sign-out
            or (checked[2].done() and checked[2].exception())
        ):
            secrets = {open_.secret for open_ in self._open.values() if open_.secret}
            checked = (self.version, now, asyncio.ensure_future(self._live(self._check, secrets)))
            self._checked = checked
        live = await asyncio.shield(checked[2])
        if stream.secret in live and live[stream.secret] == stream.user:
            return True
        stream.ended = True
        return False

    async def _live(self, check: SessionCheck, secrets: Collection[str]) -> Mapping[str, str]:
        async with self._reads:
            return await check(secrets)

    async def snapshot(self, user_id: str, lang: str) -> JsonObject:
        """The person's board now: read once per wake-up however many of their streams ask."""
        key = (user_id, lang)
        shared = self._shared.get(key)
        # A read begun (or done) since the last change that named this board serves: a wake-up
        # for others (another person's notice, the refresh of a slice) costs this board nothing.
        if shared is None or key in self._stale or (shared[1].done() and shared[1].exception()):
            shared = (self.version, asyncio.ensure_future(self._read(key)))
            self._shared[key] = shared
        return await asyncio.shield(shared[1])

    async def fresh(self, user_id: str, lang: str) -> JsonObject:
        """The person's board read whole, now (a plain GET, which no wake-up keeps current)."""
        async with self._reads:
            return await self.source.snapshot(user_id, lang)

    async def _read(self, key: Key) -> JsonObject:
        if key in self._boards and key not in self._stale and not self._inflight.get(key):
            return self._boards[key]  # nothing named this board since it was read
        previous, only, ticket = self._begin(key)
        try:
            async with self._reads:
                if previous is None or only is None:
                    board = await self.source.snapshot(*key)
                else:
                    board = await self.source.snapshot(*key, only=only, previous=previous)
        except BaseException:
            self._finish(key, ticket, None)
            raise
        self._finish(key, ticket, board)
        return board

    def _begin(self, key: Key) -> tuple[JsonObject | None, frozenset[str] | None, int]:
        """A read of `key` begins: the board it starts from, the sections it must read again
        (None: all) and its ticket."""
        previous = self._boards.get(key)
        only = self._stale.pop(key) if key in self._stale else frozenset()
        reading = self._inflight.setdefault(key, {})
        for sections in reading.values():
            only = _union(only, sections)
        if previous is None:
            only = None
        ticket = next(self._tickets)
        reading[ticket] = only
        return previous, only, ticket

    def _finish(self, key: Key, ticket: int, board: JsonObject | None) -> None:
        reading = self._inflight.get(key, {})
        reading.pop(ticket, None)
        if not reading:
            self._inflight.pop(key, None)
        if board is None:
            self._stale[key] = None  # a read failed: read it whole next time
        elif key[0] in self._by_person and ticket > self._kept.get(key, -1):  # kept while watched
            self._boards[key] = board
            self._kept[key] = ticket

    def _read_together(self, keys: list[Key]) -> None:
        """Read the boards a named change concerns in a few batches, before their streams ask:
        a notice to everyone is then a few reads, not one per open board."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop to read in: each stream reads its own when it asks
        futures: dict[Key, asyncio.Future[JsonObject]] = {}
        for key in keys:
            futures[key] = loop.create_future()
            self._shared[key] = (self.version, futures[key])
        # Begun now, so that a stream asking before the batch runs finds its read under way.
        begun = {key: self._begin(key) for key in futures}
        batch = asyncio.ensure_future(self._read_many(futures, begun))
        self._batches.add(batch)
        batch.add_done_callback(self._batches.discard)

    async def _read_many(
        self,
        futures: dict[Key, asyncio.Future[JsonObject]],
        begun: dict[Key, tuple[JsonObject | None, frozenset[str] | None, int]],
    ) -> None:
        groups: dict[frozenset[str], list[Key]] = {}
        alone = []
        for key, (previous, only, _ticket) in begun.items():
            if previous is None or only is None:
                alone.append(key)
            else:
                groups.setdefault(only, []).append(key)
        for only, keys in groups.items():
            for start in range(0, len(keys), MANY_AT_ONCE):
                chunk = keys[start : start + MANY_AT_ONCE]
                try:
                    async with self._reads:
                        boards = await self.source.read_many(only, {key: begun[key][0] or {} for key in chunk})
                except Exception:  # each board is read on its own instead
                    log.exception("reading %d boards together failed", len(chunk))
                    boards = {}
                for key in chunk:
                    board = boards.get(key)
                    if board is None:
                        alone.append(key)
                        continue
                    self._finish(key, begun[key][2], board)
                    if not futures[key].done():
                        futures[key].set_result(board)
        for key in alone:
            self._finish(key, begun[key][2], None)  # read whole, on its own
            try:
                board = await self._read(key)
            except Exception as exc:
                if not futures[key].done():
                    futures[key].set_exception(exc)
                continue
            if not futures[key].done():
                futures[key].set_result(board)

    def start(self) -> None:
        self._watch = asyncio.create_task(self._watching(), name="board-watch")
        self._tick = asyncio.create_task(self._ticking(), name="board-tick")

    async def _ticking(self) -> None:
        # Time alone changes a board with no commit (a report falls due, a task becomes overdue):
        # each board is read again whole once every REFRESH_SECONDS, a slice of them at a time,
        # so that a commit meanwhile waits behind a few such reads, not behind all of them.
        turn = 0
        while True:
            await asyncio.sleep(REFRESH_SECONDS / REFRESH_SLICES)
            people = frozenset(user for user in self._by_person if zlib.crc32(user.encode()) % REFRESH_SLICES == turn)
            turn = (turn + 1) % REFRESH_SLICES
            if people:
                self.changed(BoardChange(people=people))

    async def _watching(self) -> None:
        try:
            await self.source.watch(self.changed)
        except asyncio.CancelledError:
            raise
        except Exception:  # the stream still serves snapshots; only the live part is lost
            log.exception("the board's watch stopped")

    async def stop(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
        for task in (self._watch, self._tick, *self._batches):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass


router = APIRouter(tags=["board"])
User = Annotated[str, Depends(current_user)]


def board_hub(request: Request) -> BoardHub:
    hub: BoardHub | None = getattr(request.app.state, "board", None)
    if hub is None:
        raise ApiError(503, "board_off", "the board is not wired on this server")
    return hub


Hub = Annotated[BoardHub, Depends(board_hub)]


def _lang(value: str | None, request: Request) -> str:
    if value in LANGS:
        return value
    default: str = request.app.state.settings.default_lang
    return default if default in LANGS else "zh"


LangQuery = Annotated[str | None, Query(max_length=8)]


@router.get("/api/board")
async def board_json(request: Request, user: User, hub: Hub, lang: LangQuery = None) -> JSONResponse:
    snapshot = await hub.fresh(user, _lang(lang, request))
    return JSONResponse(snapshot, headers={"Cache-Control": "no-store", "ETag": f'"{digest(snapshot)}"'})


def _event(snapshot: JsonObject, event_id: str) -> bytes:
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
    return f"id: {event_id}\nevent: board\ndata: {data}\n\n".encode()


@router.get("/api/board/events")
async def board_events(request: Request, user: User, hub: Hub, lang: LangQuery = None) -> StreamingResponse:
    """The board as Server-Sent Events: one `board` event now (unless `Last-Event-ID` says the
    browser already has it) and one after each change of this person's board."""
    chosen = _lang(lang, request)
    last_sent = request.headers.get("last-event-id", "")[:64]
    secret = session_secret(request)
    push = request.app.state.push

    async def live(secrets: Collection[str]) -> Mapping[str, str]:
        # A sign-out (here or everywhere) ends the session row; an open board must not outlive it.
        async with push.db.reading() as session:
            return await live_sessions(session, secrets, push.clock.now())

    async def stream() -> AsyncIterator[bytes]:
        nonlocal last_sent
        with hub.waiter(user, secret, live) as wake:
            # The retry line goes with the first answer, once the board is read: a client that sees
            # it knows every later change will reach it.
            opening = f"retry: {RETRY_MS}\n\n".encode()
            loop = asyncio.get_running_loop()
            ends = loop.time() + STREAM_SECONDS
            woken, seen = True, None
            while loop.time() < ends:
                if hub.ended(wake):
                    return
                wake.clear()  # before reading, so a change during the read wakes us again
                if not opening and not await hub.signed_in(wake):
                    return
                # A quiet stream's keep-alive only checks the session: nothing woke it, so its
                # board is as sent. The same board again (shared, not re-read) is not hashed again.
                snapshot = await hub.snapshot(user, chosen) if woken else seen
                chunk, opening = opening, b""
                if snapshot is not None and snapshot is not seen:
                    seen, current = snapshot, digest(snapshot)
                    if current != last_sent:
                        last_sent = current
                        chunk += _event(snapshot, current)
                if chunk:
                    yield chunk
                try:
                    # Each quiet stream at its own moment: boards opened together (a restart, a
                    # meeting) would otherwise all send and check at once, in a change's way.
                    pause = KEEPALIVE_SECONDS * random.uniform(0.5, 1.0)
                    await asyncio.wait_for(wake.wait(), min(pause, max(0.0, ends - loop.time())))
                    woken = True
                except TimeoutError:
                    woken = False
                    yield b": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


_KEY = re.compile(r"^[A-Za-z0-9_-]{8,100}$")


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: str = Field(max_length=16)
    ref: str = Field(min_length=1, max_length=32)
    key: str = Field(max_length=100)
    opinion: str = Field(default="", max_length=2000)
    percent: int | None = Field(default=None, ge=0, le=100)
    lang: str | None = Field(default=None, max_length=8)


@router.post("/api/board/actions")
async def board_action(request: Request, user: User, hub: Hub) -> JSONResponse:
    """Approve, reject, acknowledge, report progress, mark done or RSVP, as the signed-in person."""
    try:
        parsed = ActionIn.model_validate(await json_body(request))
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()[:5])
        raise ApiError(422, "invalid", f"not a board action (check: {where})") from None
    if parsed.kind not in KINDS:
        raise ApiError(422, "invalid", f"kind must be one of: {', '.join(KINDS)}")
    if not _KEY.match(parsed.key):
        raise ApiError(422, "invalid", "key must be 8–100 letters, digits, '-' or '_'")
    action = BoardAction(
        kind=parsed.kind,
        ref=parsed.ref.strip().upper(),
        key=parsed.key,
        opinion=parsed.opinion.strip(),
        percent=parsed.percent,
        lang=_lang(parsed.lang, request),
    )
    outcome = await hub.source.act(user, action)
    # This copy's streams at once (the others hear it through the watch); a refusal or a replay
    # changed nothing, and waking every open board for it would let one person make all re-read.
    if outcome.status < 400 and not outcome.replayed:
        hub.changed(outcome.change)
    return JSONResponse(outcome.as_json(), status_code=outcome.status, headers={"Cache-Control": "no-store"})
