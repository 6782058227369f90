"""Run a real, local Synapse homeserver under a data folder.

The demo stack (`zhiban up`) and the e2e tests both need a homeserver that
starts in seconds, listens on loopback only and never throttles a test. This
module writes a Synapse config tuned for that once, keeps its secrets and port
stable across restarts (so a second start finds its accounts and rooms again),
runs Synapse as a child process in its own process group, and offers the two
account helpers everything else needs: shared-secret registration and
password login.

The config is written as JSON, which is valid YAML: no YAML library is needed
on our side, and Synapse reads it unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import aiohttp

from zhiban.synapse_admin import registration_mac

__all__ = ["HomeserverError", "LocalHomeserver"]

CONFIG_NAME: Final = "homeserver.yaml"
LOG_CONFIG_NAME: Final = "log.config.yaml"
LOG_NAME: Final = "homeserver.log"
STDIO_LOG_NAME: Final = "synapse.stdio.log"
STATE_NAME: Final = "zhiban-homeserver.json"
PID_NAME: Final = "synapse.pid"

# Generous enough that no test or demo ever sees a 429, yet never zero:
# Synapse reads `per_second: 0` as "deny everything", not "unlimited".
_UNLIMITED: Final[dict[str, float]] = {"per_second": 1000.0, "burst_count": 1000.0}
_RATE_LIMITS: Final[dict[str, Any]] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}
# A homeserver as an office would run it: Synapse's own limits, bar logins from one address
# (every test client logs in from loopback; the stock burst of 5 would stop the tests, not the bot).
_STOCK_RATE_LIMITS: Final[dict[str, Any]] = {"rc_login": _RATE_LIMITS["rc_login"]}


class HomeserverError(RuntimeError):
    """Synapse could not be prepared, started or asked to do something."""


@dataclass(frozen=True)
class _StackState:
    """What must stay the same across restarts of one data folder."""

    server_name: str
    port: int
    registration_shared_secret: str


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
        return False


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\x00", b" ").decode(errors="replace")


class LocalHomeserver:
    """A Synapse homeserver living in `data_dir`, started as a child process.

    Usage::

        async with LocalHomeserver(Path("data/synapse")) as hs:
            user_id = await hs.register("alice", "secret")
            token, device_id = await hs.login(user_id, "secret")
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        server_name: str = "localhost",
        port: int | None = None,
        python: str = sys.executable,
        stock_rate_limits: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        # The demo and the tests never wait on a rate limit; a test of the bot's exemption needs
        # Synapse's defaults (applied when the config is first written).
        self.stock_rate_limits = stock_rate_limits
        self._requested_server_name = server_name
        self._requested_port = port
        self.python = python
        self._state: _StackState | None = None
        self._process: asyncio.subprocess.Process | None = None

    # -- paths and facts -------------------------------------------------

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_NAME

    @property
    def log_path(self) -> Path:
        """Synapse's own log (WARNING and above)."""
        return self.data_dir / LOG_NAME

    @property
    def stdio_log_path(self) -> Path:
        """Synapse's stdout/stderr: startup errors land here before logging is set up."""
        return self.data_dir / STDIO_LOG_NAME

    @property
    def pid_path(self) -> Path:
        return self.data_dir / PID_NAME

    @property
    def state(self) -> _StackState:
        if self._state is None:
            self._state = self._load_or_create_state()
        return self._state

    @property
    def server_name(self) -> str:
        return self.state.server_name

    @property
    def port(self) -> int:
        return self.state.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def registration_shared_secret(self) -> str:
        return self.state.registration_shared_secret

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    def user_id(self, localpart: str) -> str:
        """The full Matrix ID of a local user."""
        return f"@{localpart}:{self.server_name}"

    # -- preparation -----------------------------------------------------

    def _load_or_create_state(self) -> _StackState:
        path = self.data_dir / STATE_NAME
        if path.exists():
            state = _StackState(**json.loads(path.read_text(encoding="utf-8")))
            if state.server_name != self._requested_server_name:
                raise HomeserverError(
                    f"{self.data_dir} belongs to server {state.server_name!r}, "
                    f"not {self._requested_server_name!r}: a server name cannot change"
                )
            if self._requested_port is not None and self._requested_port != state.port:
                raise HomeserverError(f"{self.data_dir} was set up for port {state.port}, not {self._requested_port}")
            return state
        state = _StackState(
            server_name=self._requested_server_name,
            port=self._requested_port or _free_loopback_port(),
            registration_shared_secret=secrets.token_urlsafe(32),
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(state), indent=2), encoding="utf-8")
        path.chmod(0o600)
        return state

    def _config(self) -> dict[str, Any]:
        state = self.state
        return {
            "server_name": state.server_name,
            "public_baseurl": f"{self.base_url}/",
            "listeners": [
                {
                    "port": state.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    # Client API (it also serves media and the admin API) and the OpenID
                    # userinfo endpoint, which the board's widget sign-in asks; no federation.
                    "resources": [{"names": ["client", "openid"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.data_dir / "homeserver.db")},
            },
            "log_config": str(self.data_dir / LOG_CONFIG_NAME),
            "media_store_path": str(self.data_dir / "media_store"),
            "max_upload_size": "50M",
            "url_preview_enabled": False,
            "signing_key_path": str(self.data_dir / f"{state.server_name}.signing.key"),
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "report_stats": False,
            "enable_registration": False,
            "registration_shared_secret": state.registration_shared_secret,
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "bcrypt_rounds": 4,
            "presence": {"enabled": False},
            "caches": {"sync_response_cache_duration": 0},
            # Synapse refuses outbound requests to private ranges (loopback
            # included); exempt loopback so pushers can reach a local gateway.
            "ip_range_whitelist": ["127.0.0.0/8", "::1/128"],
            # Let people find the bot and each other by name in the demo.
            "user_directory": {"enabled": True, "search_all_users": True},
            "federation_domain_whitelist": [],
            "allow_public_rooms_without_auth": False,
            "experimental_features": {},
            **(_STOCK_RATE_LIMITS if self.stock_rate_limits else _RATE_LIMITS),
        }

    def _log_config(self) -> dict[str, Any]:
        return {
            "version": 1,
            "formatters": {
                "precise": {"format": "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s"}
            },
            "filters": {"context": {"()": "synapse.logging.context.LoggingContextFilter", "request": ""}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "filters": ["context"],
                    "encoding": "utf8",
                }
            },
            "loggers": {"synapse.storage.SQL": {"level": "WARNING"}},
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }

    def prepare(self) -> None:
        """Write the config and signing key once; later calls reuse them."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        _ = self.state
        log_config = self.data_dir / LOG_CONFIG_NAME
        if not log_config.exists():
            log_config.write_text(json.dumps(self._log_config(), indent=2), encoding="utf-8")
        if not self.config_path.exists():
            text = "# Written once by zhiban.local.homeserver; JSON is valid YAML.\n"
            text += json.dumps(self._config(), indent=2) + "\n"
            tmp = self.config_path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.chmod(0o600)
            tmp.replace(self.config_path)
        signing_key = self.data_dir / f"{self.server_name}.signing.key"
        if not signing_key.exists():
            self._generate_keys(signing_key)

    def _generate_keys(self, signing_key: Path) -> None:
        """Write the server's ed25519 signing key the way Synapse's generator does."""
        try:
            from signedjson.key import generate_signing_key, write_signing_keys
        except ImportError:
            # Synapse lives in another interpreter: let it generate its own key.
            result = subprocess.run(
                [self.python, "-m", "synapse.app.homeserver", "-c", str(self.config_path), "--generate-keys"],
                cwd=self.data_dir,
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise HomeserverError(f"synapse --generate-keys failed:\n{result.stdout}\n{result.stderr}") from None
            return
        # In-process: same library and format as Synapse, a second faster than a subprocess.
        key_id = "a_" + secrets.token_hex(2)
        tmp = signing_key.with_suffix(".tmp")
        with open(tmp, "w", opener=lambda path, flags: os.open(path, flags, 0o600)) as handle:
            write_signing_keys(handle, (generate_signing_key(key_id),))
        tmp.replace(signing_key)

    # -- process lifecycle -------------------------------------------------

    def _clear_stale_process(self) -> None:
        """Stop a Synapse left over from a crashed run on this very config."""
        try:
            pid = int(self.pid_path.read_text().strip())
        except (FileNotFoundError, ValueError):
            return
        if _pid_alive(pid) and "synapse.app.homeserver" in _cmdline(pid) and str(self.config_path) in _cmdline(pid):
            # It serves our database and port; a new one could not start beside it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _pid_alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _pid_alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, signal.SIGKILL)
        self.pid_path.unlink(missing_ok=True)

    async def start(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Start Synapse and return once its client API answers."""
        if self.running:
            return
        await asyncio.to_thread(self.prepare)
        await asyncio.to_thread(self._clear_stale_process)
        if _port_in_use(self.port):
            # Without this check the readiness probe could greet a stranger on our port.
            raise HomeserverError(f"port {self.port} on 127.0.0.1 is already in use; {self.data_dir} needs it")
        with self.stdio_log_path.open("ab") as stdio:
            self._process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.config_path),
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=stdio,
                stderr=stdio,
                start_new_session=True,  # own process group: stop() signals the whole group
            )
        self.pid_path.write_text(str(self._process.pid))
        try:
            await self._wait_until_ready(timeout)
        except BaseException:
            await self.stop()
            raise

    async def _wait_until_ready(self, timeout: float) -> None:  # noqa: ASYNC109
        assert self._process is not None
        url = f"{self.base_url}/_matrix/client/versions"
        deadline = time.monotonic() + timeout
        client_timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=client_timeout) as session:
            while True:
                if self._process.returncode is not None:
                    raise HomeserverError(
                        f"Synapse exited with code {self._process.returncode} while starting.\n" + self._diagnostics()
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(url) as resp:
                        if resp.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise HomeserverError(
                        f"Synapse did not answer on {url} within {timeout:.0f}s.\n" + self._diagnostics()
                    )
                await asyncio.sleep(0.05)

    def _diagnostics(self) -> str:
        return (
            f"--- tail of {self.stdio_log_path} ---\n{_tail(self.stdio_log_path)}\n"
            f"--- tail of {self.log_path} ---\n{_tail(self.log_path)}"
        )

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL it after `grace` seconds."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        self.pid_path.unlink(missing_ok=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- accounts --------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.request(method, f"{self.base_url}{path}", json=body) as resp,
        ):
            data = await resp.json(content_type=None)
            return resp.status, data if isinstance(data, dict) else {}

    async def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Create a user through the shared-secret admin API; an existing user is fine.

        Returns the full user ID. (Synapse also logs the new user in once; that
        token is dropped: use `login()` for a device of your own.)
        """
        path = "/_synapse/admin/v1/register"
        status, data = await self._request("GET", path)
        if status != 200 or "nonce" not in data:
            raise HomeserverError(f"register: no nonce ({status}): {data}")
        nonce: str = data["nonce"]
        body = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": registration_mac(self.registration_shared_secret, nonce, localpart, password, admin=admin),
        }
        status, data = await self._request("POST", path, body)
        if status == 200:
            return str(data["user_id"])
        if data.get("errcode") == "M_USER_IN_USE":
            return self.user_id(localpart)
        raise HomeserverError(f"register {localpart!r} failed ({status}): {data}")

    async def login(self, user_id: str, password: str, *, device_id: str | None = None) -> tuple[str, str]:
        """Password login; returns `(access_token, device_id)`."""
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        }
        if device_id is not None:
            body["device_id"] = device_id
        status, data = await self._request("POST", "/_matrix/client/v3/login", body)
        if status != 200:
            raise HomeserverError(f"login {user_id} failed ({status}): {data}")
        return str(data["access_token"]), str(data["device_id"])
