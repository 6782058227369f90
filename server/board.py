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
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notifications import sessions
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
# A stream ends after this long and the browser reconnects (with Last-Event-ID, so nothing is
# sent again): a server that is stopping waits for no board for longer, and a load balancer
# spreads the boards again over the copies it has now.
STREAM_SECONDS = 300.0
REFRESH_SECONDS = 60.0
# Open streams one person may hold (tabs, phones); a new one beyond ends their oldest, so a
# script opening streams in a loop holds this many connections, not one per request.
STREAMS_PER_PERSON = 6

JsonObject = dict[str, object]


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

    def as_json(self) -> JsonObject:
        answer: JsonObject = {"ok": self.status < 400, "code": self.code, "message": self.message}
        answer["replayed"] = self.replayed
        if self.next:
            answer["next"] = self.next
        return answer


class BoardSource(Protocol):
    async def snapshot(self, user_id: str, lang: str) -> JsonObject:
        """The person's board, as JSON: `{"now": iso, "sections": [{"key", "title", "lines", "empty",
        "items": [{"ref", "title", "lines", "late", "due", "group", "actions": [{"kind", "label"}]}]}]}`."""
        ...

    async def act(self, user_id: str, action: BoardAction) -> ActionOutcome:
        """Do it through the same service as chat, exactly once per (user, key)."""
        ...

    async def watch(self, on_change: Callable[[], None]) -> None:
        """Call `on_change` after every commit that may change a board; runs until cancelled."""
        ...


def digest(snapshot: JsonObject) -> str:
    body = json.dumps(snapshot, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass
class BoardHub:
    """Wakes every open stream when a board may have changed, and shares one snapshot per
    person and language between the streams of one wake-up (two tabs, two phones)."""

    source: BoardSource
    version: int = 0
    _waiters: set[asyncio.Event] = field(default_factory=set)
    _by_person: dict[str, list[asyncio.Event]] = field(default_factory=dict)
    _ended: set[asyncio.Event] = field(default_factory=set)
    _shared: dict[tuple[str, str], tuple[int, asyncio.Task[JsonObject]]] = field(default_factory=dict)
    _watch: asyncio.Task[None] | None = None
    _tick: asyncio.Task[None] | None = None
    # A change wakes every open board at once; a few reads at a time keep the database pool
    # from being queued on and let the first boards out early instead of all at the end.
    _reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(READS_AT_ONCE))

    def changed(self) -> None:
        self.version += 1
        self._shared.clear()
        for waiter in self._waiters:
            waiter.set()

    @contextmanager
    def waiter(self, user_id: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._waiters.add(event)
        mine = self._by_person.setdefault(user_id, [])
        mine.append(event)
        if len(mine) > STREAMS_PER_PERSON:
            oldest = mine.pop(0)
            self._ended.add(oldest)
            oldest.set()
        try:
            yield event
        finally:
            self._waiters.discard(event)
            self._ended.discard(event)
            if event in mine:
                mine.remove(event)
            if not mine and self._by_person.get(user_id) is mine:
                del self._by_person[user_id]

    def ended(self, waiter: asyncio.Event) -> bool:
        """Whether this stream was ended for a newer one of the same person."""
        return waiter in self._ended

    @property
    def listeners(self) -> int:
        return len(self._waiters)

    async def snapshot(self, user_id: str, lang: str) -> JsonObject:
        key = (user_id, lang)
        shared = self._shared.get(key)
        if shared is None or shared[0] != self.version or (shared[1].done() and shared[1].exception()):
            task = asyncio.ensure_future(self._read(user_id, lang))
            shared = (self.version, task)
            self._shared[key] = shared
        return await asyncio.shield(shared[1])

    async def _read(self, user_id: str, lang: str) -> JsonObject:
        async with self._reads:
            return await self.source.snapshot(user_id, lang)

    def start(self) -> None:
        self._watch = asyncio.create_task(self._watching(), name="board-watch")
        self._tick = asyncio.create_task(self._ticking(), name="board-tick")

    async def _ticking(self) -> None:
        # Time alone changes a board with no commit (a report falls due, a task becomes overdue).
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            self.changed()

    async def _watching(self) -> None:
        try:
            await self.source.watch(self.changed)
        except asyncio.CancelledError:
            raise
        except Exception:  # the stream still serves snapshots; only the live part is lost
            log.exception("the board's watch stopped")

    async def stop(self) -> None:
        for task in (self._watch, self._tick):
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
    snapshot = await hub.snapshot(user, _lang(lang, request))
    return JSONResponse(snapshot, headers={"Cache-Control": "no-store", "ETag": f'"{digest(snapshot)}"'})


def _event(snapshot: JsonObject) -> bytes:
    data = json.dumps(snapshot, ensure_ascii=False, separators=(",", ":"))
    return f"id: {digest(snapshot)}\nevent: board\ndata: {data}\n\n".encode()


@router.get("/api/board/events")
async def board_events(request: Request, user: User, hub: Hub, lang: LangQuery = None) -> StreamingResponse:
    """The board as Server-Sent Events: one `board` event now (unless `Last-Event-ID` says the
    browser already has it) and one after each change of this person's board."""
    chosen = _lang(lang, request)
    last_sent = request.headers.get("last-event-id", "")[:64]
    secret = session_secret(request)
    push = request.app.state.push

    async def still_signed_in() -> bool:
        # A sign-out (here or everywhere) ends the session row; an open board must not outlive it.
        async with push.db.reading() as session:
            return await sessions.find(session, secret, clock=push.clock) == user

    async def stream() -> AsyncIterator[bytes]:
        nonlocal last_sent
        with hub.waiter(user) as wake:
            # The retry line goes with the first answer, once the board is read: a client that sees
            # it knows every later change will reach it.
            opening = f"retry: {RETRY_MS}\n\n".encode()
            loop = asyncio.get_running_loop()
            ends = loop.time() + STREAM_SECONDS
            while loop.time() < ends:
                if hub.ended(wake):
                    return
                wake.clear()  # before reading, so a change during the read wakes us again
                if not opening and not await still_signed_in():
                    return
                snapshot = await hub.snapshot(user, chosen)
                current = digest(snapshot)
                chunk, opening = opening, b""
                if current != last_sent:
                    last_sent = current
                    chunk += _event(snapshot)
                if chunk:
                    yield chunk
                try:
                    await asyncio.wait_for(wake.wait(), min(KEEPALIVE_SECONDS, max(0.0, ends - loop.time())))
                except TimeoutError:
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
        hub.changed()
    return JSONResponse(outcome.as_json(), status_code=outcome.status, headers={"Cache-Control": "no-store"})
