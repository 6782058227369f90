"""`zhiban up`: the whole stack on one machine, from nothing, with embedded defaults.

Synapse (SQLite, loopback only) and, unless a Redis is configured, an embedded redis-server both
live under the data folder, so a second start finds its accounts and rooms again. The bot,
the push server and the worker run as child processes, exactly as in production.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

import aiohttp

from records.config import load_settings
from records.db import private_dir
from zhiban.config_file import fresh_config, write_config
from zhiban.local.avatars import avatar_png
from zhiban.local.homeserver import LocalHomeserver
from zhiban.redis_conn import EmbeddedRedis, configured_url

# The demo office: (localpart, display name, roles).
DEMO_PEOPLE = [
    ("zhang", "张主任", ["leader"]),
    ("li", "李值班", ["duty_officer"]),
    ("wang", "王科长", ["duty_leader"]),
    ("zhao", "赵处长", []),
]
BOT_LOCALPART = "zhiban"
SERVICES = ("bot", "server", "worker")


@dataclass
class Accounts:
    bot_password: str
    passwords: dict[str, str]

    @classmethod
    def load_or_create(cls, path: Path) -> Accounts:
        if path.exists():
            data = json.loads(path.read_text())
            return cls(data["bot_password"], data["passwords"])
        accounts = cls(secrets.token_urlsafe(16), {lp: f"demo-{secrets.token_hex(3)}" for lp, _, _ in DEMO_PEOPLE})
        path.write_text(json.dumps({"bot_password": accounts.bot_password, "passwords": accounts.passwords}))
        path.chmod(0o600)
        return accounts


async def set_profile(hs: LocalHomeserver, localpart: str, password: str, name: str, avatar: bytes) -> None:
    """Give a demo person their Chinese name and an avatar (a PNG uploaded to the homeserver's
    media repository) through the profile API, so that cards and clients show who is who.

    Checked first, so that a restart logs nobody in (each login is a new device in their list).
    """
    user_id = hs.user_id(localpart)
    profile = f"{hs.base_url}/_matrix/client/v3/profile/{quote(user_id)}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.get(profile) as resp:
            current = await resp.json(content_type=None)
        if resp.status == 200 and isinstance(current, dict):
            if current.get("displayname") == name and current.get("avatar_url"):
                return
        token, _ = await hs.login(user_id, password, device_id="ZHIBAN_DEMO_SETUP")
        auth = {"Authorization": f"Bearer {token}"}
        async with http.put(f"{profile}/displayname", json={"displayname": name}, headers=auth) as resp:
            if resp.status != 200:
                raise RuntimeError(f"could not set {user_id}'s display name ({resp.status}): {await resp.text()}")
        upload = f"{hs.base_url}/_matrix/media/v3/upload?filename={quote(localpart)}.png"
        async with http.post(upload, data=avatar, headers={**auth, "Content-Type": "image/png"}) as resp:
            uploaded = await resp.json(content_type=None)
            if resp.status != 200 or not isinstance(uploaded, dict) or "content_uri" not in uploaded:
                raise RuntimeError(f"could not upload {user_id}'s avatar ({resp.status}): {uploaded}")
        body = {"avatar_url": uploaded["content_uri"]}
        async with http.put(f"{profile}/avatar_url", json=body, headers=auth) as resp:
            if resp.status != 200:
                raise RuntimeError(f"could not set {user_id}'s avatar ({resp.status}): {await resp.text()}")
        async with http.post(f"{hs.base_url}/_matrix/client/v3/logout", headers=auth):
            pass


def describe_redis(url: str) -> str:
    """host:port, database N, with any password hidden: what a shared Redis must be told apart by."""
    parts = urlsplit(url)
    db = parts.path.lstrip("/") or "0"
    return f"{parts.hostname}:{parts.port or 6379}, database {db}"


def print_logins(hs: LocalHomeserver, accounts: Accounts) -> None:
    print("\nDemo logins (any Matrix client, homeserver " + hs.base_url + "):")
    for localpart, name, roles in DEMO_PEOPLE:
        print(f"  {hs.user_id(localpart):<22} password {accounts.passwords[localpart]:<14} {name} {roles}")


def print_next_step(hs: LocalHomeserver, accounts: Accounts) -> None:
    first, name, _ = DEMO_PEOPLE[0]
    print(
        f'\nNext: open Element (https://app.element.io, or Element Desktop), choose "Sign in", '
        f"edit the homeserver to {hs.base_url}, and log in as {hs.user_id(first)} ({name}) "
        f"with password {accounts.passwords[first]}. Start a chat with {hs.user_id(BOT_LOCALPART)} "
        "and say !帮助."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_config(path: Path, data_dir: Path, hs: LocalHomeserver, accounts: Accounts) -> None:
    bot_user = hs.user_id(BOT_LOCALPART)
    if path.exists():
        return
    values = fresh_config(
        homeserver=hs.base_url, bot_user=bot_user, bot_password=accounts.bot_password, data_dir=str(data_dir)
    )
    port = _free_port()
    values["server"].update({"port": port, "public_url": f"http://127.0.0.1:{port}"})
    # Loopback push services only exist in the demo; a real deployment keeps the default allowlist.
    roles: dict[str, list[str]] = {"leader": [], "duty_leader": [], "duty_officer": [], "admin": []}
    for localpart, _, person_roles in DEMO_PEOPLE:
        for role in person_roles:
            roles[role].append(hs.user_id(localpart))
    values["roles"] = roles
    write_config(path, values)


class Children:
    """The bot, server and worker processes, with their logs under the data folder."""

    def __init__(self, config: Path, log_dir: Path, env: dict[str, str]) -> None:
        self.config = config
        self.log_dir = log_dir
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            log = open(self.log_dir / f"{name}.log", "ab")
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", "zhiban.cli", name, "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # Ctrl-C reaches us once; we stop them in order
            )

    def dead(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _tour_or_check(data_dir: Path, hs: LocalHomeserver, accounts: Accounts, children: Children) -> bool:
    """The whole tour on the first start; later starts only check, in the same room, that the bot answers."""
    from zhiban.local.tour import CHECK_STEPS, TOUR_STEPS, play_tour, remember_tour, tour_state

    played = tour_state(data_dir)
    if played is None:
        print("\nA short tour (a real client talking to the bot):")
    else:
        print(
            f"\nThe tour was played on {played.get('played_at', '?')} (delete {data_dir / 'tour.json'} to see it again)."
        )
        print("Checking that the bot answers:")
    try:
        room, _ = await asyncio.wait_for(
            play_tour(
                hs.base_url,
                hs.user_id("zhao"),
                accounts.passwords["zhao"],
                hs.user_id(BOT_LOCALPART),
                steps=TOUR_STEPS if played is None else CHECK_STEPS,
                room_id=None if played is None else played["room_id"],
            ),
            timeout=300,
        )
    except TimeoutError:
        print("  (the tour timed out; see the logs)")
        for name in children.dead():
            print(f"--- {name} stopped:\n{children.tail(name)}")
        return False
    if played is None:
        remember_tour(data_dir, room)
    return True


async def run_stack(
    data_dir: Path, *, tour: bool = True, exit_after_tour: bool = False, embedded_redis: bool = False
) -> int:
    private_dir(data_dir)  # accounts, config, databases: owner only
    print(f"Zhiban local stack in {data_dir}")
    hs = LocalHomeserver(data_dir / "synapse")
    hs.prepare()
    await hs.start()
    print(f"  homeserver  {hs.base_url}  (Synapse, SQLite)")

    # The demo's own embedded Redis unless one is configured: a Redis that merely answers on
    # localhost may belong to something else, and its database 0 is nobody's in particular.
    embedded: EmbeddedRedis | None = None
    redis_url = None if embedded_redis else configured_url(os.environ, data_dir / "zhiban.toml") or None
    if redis_url is None:
        embedded = EmbeddedRedis(data_dir)
        redis_url = embedded.start()
        print(f"  redis       {redis_url}  (embedded)")
    else:
        # Loud on purpose: a configured Redis may be shared, and the demo's queues land in it.
        where = describe_redis(redis_url)  # never the password
        print(f"  redis       {where}  (CONFIGURED, maybe SHARED)")
        print(f"  !! the demo writes its queues and state to the Redis at {where};")
        print("  !! use a database nothing else uses, or start with --embedded-redis")

    children: Children | None = None
    try:
        accounts = Accounts.load_or_create(data_dir / "accounts.json")
        await hs.register(BOT_LOCALPART, accounts.bot_password)
        for number, (localpart, name, _) in enumerate(DEMO_PEOPLE):
            await hs.register(localpart, accounts.passwords[localpart])
            await set_profile(hs, localpart, accounts.passwords[localpart], name, avatar_png(number))
        config = data_dir / "zhiban.toml"
        _ensure_config(config, data_dir, hs, accounts)
        settings = load_settings(config)
        env = {**os.environ, "ZHIBAN_CONFIG": str(config), "ZHIBAN_REDIS__URL": redis_url}
        env["ZHIBAN_MATRIX__HOMESERVER"] = hs.base_url
        children = Children(config, data_dir / "logs", env)
        children.start()
        print(f"  push server {settings.server.public_url}")
        print(f"  bot         {hs.user_id(BOT_LOCALPART)}  (logs in {data_dir / 'logs'})")
        print_logins(hs, accounts)

        if tour and not await _tour_or_check(data_dir, hs, accounts, children):
            return 1
        # Repeated here: the tour's output pushed the first listing off the screen.
        print_logins(hs, accounts)
        print_next_step(hs, accounts)
        if exit_after_tour:
            return 0
        print("\nZhiban is running. Press Ctrl-C to stop.")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        while not stop.is_set():
            dead = children.dead()
            if dead:
                for name in dead:
                    print(f"{name} stopped unexpectedly:\n{children.tail(name)}")
                return 1
            try:
                await asyncio.wait_for(stop.wait(), 2)
            except TimeoutError:
                pass
        return 0
    finally:
        print("\nStopping…")
        if children is not None:
            children.stop()
        await hs.stop()
        if embedded is not None:
            embedded.stop()
        print("Stopped. Data kept in", data_dir)
