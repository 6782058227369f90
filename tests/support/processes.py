"""Real Zhiban processes for fault tests, and the homeserver's own record of what they sent.

A chaos test starts `zhiban bot` and `zhiban worker` as the README documents (only `--config`
names the file), optionally with a *hook*: Python run in the child before Zhiban starts, which
patches one call so that the process reaches a chosen point, drops a marker file and hangs there.
The test waits for the marker and SIGKILLs the process, so the crash window is certain rather
than a matter of timing. Afterwards it counts what arrived from the homeserver's history
(`/messages`), read through a fresh login, never from a test client's memory.

    worker = spawn_worker(config_path, log_path=tmp_path / "worker.log")
    bot = spawn_bot(config_path, hook=HOOK, marker=tmp_path / "marker")
    await wait_for_marker(tmp_path / "marker", bot)
    kill(bot)
    async with History.login(homeserver_url, user_id, password) as history:
        messages = await history.messages(room_id)
    assert count(messages, sender=bot_id, contains="⏰ 提醒") == 1

A hook sees `marker` (a `pathlib.Path`, or None) and `async def hang(note="")`, which writes
the marker and sleeps until the process is killed.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar

from nio import (
    AsyncClient,
    DirectRoomsResponse,
    JoinedRoomsResponse,
    LoginResponse,
    RoomGetStateResponse,
    RoomMessagesResponse,
)

__all__ = [
    "History",
    "body",
    "count",
    "kill",
    "spawn_bot",
    "spawn_worker",
    "spawn_zhiban",
    "stop",
    "until",
    "wait_for_marker",
    "zhiban_env",
]

Role = Literal["bot", "worker"]
T = TypeVar("T")

# The child runs this: hook first (patching what it must before Zhiban imports use it), then
# the CLI exactly as the `zhiban` console script would.
_RUNNER = """
import asyncio, os, pathlib, runpy, sys
marker = pathlib.Path(os.environ["CHAOS_MARKER"]) if os.environ.get("CHAOS_MARKER") else None
async def hang(note=""):
    marker.write_text(str(note))
    await asyncio.sleep(3600)  # the test kills the process here
exec(compile(os.environ.get("CHAOS_HOOK", ""), "<chaos hook>", "exec"))
sys.argv = ["zhiban", *sys.argv[1:]]
runpy.run_module("zhiban.cli", run_name="__main__")
"""


def zhiban_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any ZHIBAN_* variable: only `--config` names the config."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ZHIBAN_", "CHAOS_"))}
    return {**env, **(extra or {})}


def spawn_zhiban(
    role: Role,
    config_path: Path,
    *,
    log_path: Path | None = None,
    cwd: Path | None = None,
    hook: str | None = None,
    marker: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `zhiban <role> --config FILE` as its own process; output goes to `log_path`
    (appended, default `<config folder>/<role>-process.log`). Without a hook it is the installed
    console script itself; with one, the same CLI run after the hook."""
    log_path = log_path or config_path.parent / f"{role}-process.log"
    extra = {"CHAOS_HOOK": hook or ""}
    if marker is not None:
        extra["CHAOS_MARKER"] = str(marker)
    script = Path(sys.executable).with_name("zhiban")
    if hook is None and script.exists():
        command = [str(script)]  # the installed console script, exactly as the README says
    else:
        command = [sys.executable, "-c", _RUNNER]
    with log_path.open("ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [*command, role, "--config", str(config_path.resolve())],
            cwd=cwd or config_path.parent,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=zhiban_env(extra),
        )


def spawn_bot(config_path: Path, **options: Any) -> subprocess.Popen[bytes]:
    """`zhiban bot --config FILE` (see `spawn_zhiban` for the options)."""
    return spawn_zhiban("bot", config_path, **options)


def spawn_worker(config_path: Path, **options: Any) -> subprocess.Popen[bytes]:
    """`zhiban worker --config FILE`: the rq worker and the timer pump (see `spawn_zhiban`)."""
    return spawn_zhiban("worker", config_path, **options)


def kill(process: subprocess.Popen[bytes] | None) -> None:
    """SIGKILL: no clean shutdown, like a power cut. A process already gone is fine."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    """A clean stop (SIGTERM), killed if it does not end (a guard against a hang)."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill(process)


async def until(
    check: Callable[[], T | Awaitable[T]],
    what: str | Callable[[], str],
    *,
    within: float = 90.0,
    interval: float = 0.25,
) -> T:
    """Wait until `check()` (sync or async) returns something truthy, and return it.

    `within` (seconds) is a guard against a hang, not a speed check: the machine may be slow.
    `what` says what never happened; a callable is asked at the timeout (the state by then).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        if loop.time() > deadline:
            raise TimeoutError(what() if callable(what) else what)
        await asyncio.sleep(interval)


def _tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


async def wait_for_marker(
    marker: Path, process: subprocess.Popen[bytes] | None = None, *, within: float = 90.0, log_path: Path | None = None
) -> str:
    """Wait for a hook's marker file and return its text; fail at once if `process` ends first."""

    def reached() -> str | None:
        if marker.exists():
            return marker.read_text() or "(reached)"
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended ({process.returncode}) before {marker.name}\n{_tail(log_path)}")
        return None

    return await until(reached, f"{marker.name} never appeared\n{_tail(log_path)}", within=within)


def body(event: dict[str, Any]) -> str:
    content = event.get("content")
    return str(content.get("body", "")) if isinstance(content, dict) else ""


def count(
    messages: Iterable[dict[str, Any]],
    *,
    sender: str | None = None,
    contains: str | Iterable[str] = (),
    where: Callable[[str], bool] | None = None,
) -> int:
    """How many messages (from `History.messages`) match: by sender, text they all contain, and
    an optional test of the body. Edits (`m.replace`) are not counted: they change a message."""
    needles = [contains] if isinstance(contains, str) else list(contains)
    total = 0
    for event in messages:
        if sender is not None and event.get("sender") != sender:
            continue
        relates = event.get("content", {}).get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace":
            continue
        text = body(event)
        if all(needle in text for needle in needles) and (where is None or where(text)):
            total += 1
    return total


class History:
    """A fresh login of one user, reading rooms as the homeserver keeps them."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client

    @classmethod
    def login(cls, homeserver_url: str, user_id: str, password: str) -> _Login:
        """`async with History.login(url, user, password) as history:` (logs out after)."""
        return _Login(homeserver_url, user_id, password)

    async def messages(self, room_id: str, *, types: Iterable[str] = ("m.room.message",)) -> list[dict[str, Any]]:
        """Every event of those types in the room, oldest first, as raw JSON (all pages)."""
        wanted = set(types)
        events: list[dict[str, Any]] = []
        start = ""
        while True:
            response = await self.client.room_messages(room_id, start=start, limit=500)
            if not isinstance(response, RoomMessagesResponse):
                raise AssertionError(f"/messages of {room_id}: {response}")
            events.extend(e.source for e in response.chunk if e.source.get("type") in wanted)
            if not response.chunk or not response.end or response.end == start:
                break
            start = response.end
        events.reverse()
        return events

    async def joined_rooms(self) -> list[str]:
        response = await self.client.joined_rooms()
        if not isinstance(response, JoinedRoomsResponse):
            raise AssertionError(f"joined_rooms: {response}")
        return list(response.rooms)

    async def direct_rooms(self) -> dict[str, list[str]]:
        """This user's `m.direct`: the DM rooms it opened or marked, per person."""
        response = await self.client.list_direct_rooms()
        if not isinstance(response, DirectRoomsResponse):
            return {}  # no DM yet: the account data does not exist
        return {user: list(rooms) for user, rooms in response.rooms.items()}

    async def members(self, room_id: str) -> dict[str, str]:
        """Everyone the room's state names, with their membership (join, invite, leave...)."""
        response = await self.client.room_get_state(room_id)
        if not isinstance(response, RoomGetStateResponse):
            raise AssertionError(f"state of {room_id}: {response}")
        return {
            str(e["state_key"]): str(e.get("content", {}).get("membership", ""))
            for e in response.events
            if e.get("type") == "m.room.member"
        }

    async def one_to_one_rooms(self) -> dict[str, list[str]]:
        """Per person, the rooms this user has joined that hold only the two of them (joined or
        invited): every one-to-one room, whether or not `m.direct` knows it, so a DM room made
        twice shows twice."""
        found: dict[str, list[str]] = {}
        for room_id in await self.joined_rooms():
            present = {user for user, state in (await self.members(room_id)).items() if state in ("join", "invite")}
            others = present - {self.client.user_id}
            if len(present) == 2 and len(others) == 1:
                found.setdefault(others.pop(), []).append(room_id)
        return found

    async def dm_messages(self, person: str) -> list[dict[str, Any]]:
        """All messages of all this user's DM rooms with `person` (the reader is usually the bot,
        which is in every DM it opened), oldest first per room."""
        found: list[dict[str, Any]] = []
        for room_id in (await self.direct_rooms()).get(person, []):
            found.extend(await self.messages(room_id))
        return found


class _Login:
    def __init__(self, homeserver_url: str, user_id: str, password: str) -> None:
        self.client = AsyncClient(homeserver_url, user_id)
        self.password = password

    async def __aenter__(self) -> History:
        response = await self.client.login(self.password, device_name="chaos-history")
        if not isinstance(response, LoginResponse):
            await self.client.close()
            raise AssertionError(f"login {self.client.user_id}: {response}")
        return History(self.client)

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await self.client.logout()
        finally:
            await self.client.close()
