"""The Matrix side: a nio client, the sync loop, joins and sending.

Event conversion is `bot.convert`, DM bookkeeping `bot.direct`, the other homeserver calls
`bot.rooms`; the client's settings are `bot.options`.

The framework, not nio, owns the sync token: it is saved only after every event of a
batch has been handled, so a crash replays what was not finished (and the application's
event ledger turns a replay of what was finished into a no-op).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import nio

from bot.convert import EventConversion
from bot.direct import DirectRooms
from bot.dispatcher import Dispatcher
from bot.errors import check
from bot.options import ClientOptions, JoinPolicy, MemoryTokenStore, TokenStore
from bot.outbound import Sent
from bot.rooms import RoomCalls
from bot.types import MemberEvent

# Set up through bot.options; named here too, where callers have long imported them from.
__all__ = ["BotClient", "ClientOptions", "JoinPolicy", "MemoryTokenStore", "TokenStore"]

log = logging.getLogger(__name__)


# Room versions in which creators have only the power the power-levels event gives them.
_CLASSIC_VERSIONS = {str(v) for v in range(1, 12)}


class BotClient(EventConversion, DirectRooms, RoomCalls):
    """Runs the sync loop and is the direct `Outbound` of the framework."""

    # Seconds between two writes of the sync token while events keep coming.
    TOKEN_SAVE_INTERVAL = 2.0
    # The longest pause between two sync attempts while the homeserver does not answer. A
    # doubling back-off up to 30 s left the bot deaf for up to 16 s after a homeserver restart;
    # an attempt against a server that is down costs one refused connection, so a short cap is
    # cheap, and a command sent once the server is back is answered within a few seconds.
    SYNC_RETRY_MAX = 2.0
    SYNC_RETRY_FIRST = 0.25

    def __init__(
        self,
        options: ClientOptions,
        dispatcher: Dispatcher,
        *,
        token_store: TokenStore | None = None,
        on_batch_done: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.options = options
        self.dispatcher = dispatcher
        self.token_store = token_store or MemoryTokenStore()
        self.on_batch_done = on_batch_done
        store_path = str(options.store_dir) if options.store_dir else ""
        if options.store_dir:
            options.store_dir.mkdir(parents=True, exist_ok=True)
        config = nio.AsyncClientConfig(
            encryption_enabled=options.e2ee,
            store_sync_tokens=False,
            # Without a limit nio retries every 429 forever, silently.
            max_limit_exceeded=5,
            max_timeouts=5,
            request_timeout=options.sync_timeout_ms / 1000 + 30,
        )
        self.nio = nio.AsyncClient(
            options.homeserver,
            options.user_id,
            device_id=options.device_id or "",
            store_path=store_path,
            config=config,
        )
        self.user_id = options.user_id
        self._init_direct()
        self.display_name = options.user_id.split(":")[0].lstrip("@")
        self._stop = asyncio.Event()
        self._last_checkpoint: asyncio.Task[None] | None = None
        # The newest token whose batch is fully handled, and the last one written.
        self._ready_token: str | None = None
        self._saved_token: str | None = None
        self._last_save = -math.inf  # the first token is saved at once, however long the machine has been up
        self._started_ms = int(time.time() * 1000)
        self.synced = asyncio.Event()
        # When a sync last succeeded (wall clock): `zhiban health bot --ready` calls a bot that
        # has not heard its homeserver for a while not ready, though its process runs on.
        self.last_synced_at: datetime | None = None
        self._creators: dict[str, set[str]] = {}
        # Set when the bot must stop rather than go on (events it could not record).
        self.fatal: BaseException | None = None
        self.on_login: Callable[[], Awaitable[None]] | None = None

    # -- session -------------------------------------------------------------------------
    async def login(self) -> None:
        o = self.options
        if o.access_token:
            if not o.device_id:
                whoami = check(await self.nio.whoami())
                o.device_id = whoami.device_id
            self.nio.restore_login(o.user_id, o.device_id or "", o.access_token)
        elif o.password:
            response = check(await self.nio.login(o.password, device_name=o.device_name))
            o.access_token, o.device_id = response.access_token, response.device_id
        else:
            raise ValueError("the bot needs a password or an access token")
        if o.e2ee and self.nio.should_upload_keys:
            check(await self.nio.keys_upload())
        profile = await self.nio.get_displayname(o.user_id)
        if isinstance(profile, nio.ProfileGetDisplayNameResponse) and profile.displayname:
            self.display_name = profile.displayname
        direct = await self.nio.list_direct_rooms()
        if isinstance(direct, nio.DirectRoomsResponse):
            self.direct_rooms = {user: list(rooms) for user, rooms in direct.rooms.items()}

    # -- the sync loop -------------------------------------------------------------------
    async def run(self) -> None:
        token = await self.token_store.load()
        first_ever = token is None
        full_state = True
        backoff = self.SYNC_RETRY_FIRST
        failing_since: float | None = None
        while not self._stop.is_set():
            sync = asyncio.ensure_future(
                self.nio.sync(timeout=self.options.sync_timeout_ms, since=token, full_state=full_state)
            )
            stopper = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({sync, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not sync.done():
                sync.cancel()
                break
            try:
                response = sync.result()
            except Exception as exc:  # the homeserver is restarting, the network hiccuped
                response = nio.SyncError(f"{type(exc).__name__}: {exc}")
            if isinstance(response, nio.SyncError):
                if response.status_code == "M_UNKNOWN_TOKEN":
                    await self._login_again()
                if self.fatal is not None:
                    raise self.fatal
                if failing_since is None:
                    failing_since = time.monotonic()
                    log.warning("sync failed: %s; retrying every %.0fs at most", response.message, self.SYNC_RETRY_MAX)
                else:
                    log.debug("sync failed again: %s", response.message)
                await self._pause(backoff)
                backoff = min(backoff * 2, self.SYNC_RETRY_MAX)
                continue
            if self.fatal is not None:
                raise self.fatal
            if failing_since is not None:
                log.warning("sync works again after %.1fs", time.monotonic() - failing_since)
                failing_since = None
            backoff = self.SYNC_RETRY_FIRST
            full_state = False
            futures = self._dispatch(response, history=first_ever)
            first_ever = False
            token = response.next_batch
            self._checkpoint(futures, token)
            await self._maintain_keys()
            self.last_synced_at = datetime.now(UTC)
            self.synced.set()

    async def _pause(self, seconds: float) -> None:
        """Wait before the next sync attempt, but not past a stop."""
        try:
            await asyncio.wait_for(self._stop.wait(), seconds)
        except TimeoutError:
            pass

    async def _login_again(self) -> None:
        """The saved access token was revoked: log in again with the password, keeping the device."""
        if not self.options.password:
            self.fatal = RuntimeError("the access token was revoked and no password is configured")
            return
        log.warning("access token revoked; logging in again")
        self.options.access_token = None
        response = await self.nio.login(self.options.password, device_name=self.options.device_name)
        if isinstance(response, nio.LoginResponse):
            self.options.access_token, self.options.device_id = response.access_token, response.device_id
            if self.on_login is not None:
                await self.on_login()

    def _dispatch(self, response: nio.SyncResponse, *, history: bool) -> list[asyncio.Future[Any]]:
        futures: list[asyncio.Future[Any]] = []
        for event in response.account_data_events:
            self._note_direct(event)
        for room_id, info in response.rooms.invite.items():
            for raw in info.invite_state:
                if isinstance(raw, nio.InviteMemberEvent) and raw.state_key == self.user_id:
                    if raw.membership == "invite":
                        futures.append(asyncio.ensure_future(self._on_invite(room_id, raw)))
                    break
        for room_id, info in response.rooms.join.items():
            try:
                self._note_creators(room_id, [*info.state, *info.timeline.events])
            except Exception:
                log.exception("could not read the creators of %s", room_id)
            if history:
                # The first sync of a new bot carries old history: nothing in it is addressed to us.
                continue
            for raw in info.timeline.events:
                try:
                    event = self.convert(room_id, raw)
                except Exception:
                    # One malformed event must never stop the bot (it would come back on restart).
                    log.exception("could not read event %s in %s; skipped", getattr(raw, "event_id", "?"), room_id)
                    continue
                if event is None:
                    continue
                futures.append(self.dispatcher.submit(event, {"client": self}))
            for receipt in self.receipts(room_id, getattr(info, "ephemeral", None) or []):
                futures.append(self.dispatcher.submit(receipt, {"client": self}))
        return futures

    def _checkpoint(self, futures: list[asyncio.Future[Any]], token: str) -> None:
        previous = self._last_checkpoint

        async def save() -> None:
            results = await asyncio.gather(*futures, return_exceptions=True) if futures else []
            if previous is not None:
                await asyncio.gather(previous, return_exceptions=True)
            failed = [r for r in results if isinstance(r, BaseException)]
            if failed or self.fatal is not None:
                # An event could be neither handled nor recorded (the database is down): keep the
                # old token and stop, so that a restart replays this batch instead of losing it.
                if self.fatal is None:
                    self.fatal = RuntimeError(f"{len(failed)} event(s) could not be handled: {failed[0]!r}")
                    log.error("stopping: %s", self.fatal)
                    self._stop.set()
                return
            self._ready_token = token
            now = time.monotonic()
            if now - self._last_save < self.TOKEN_SAVE_INTERVAL and not self._stop.is_set():
                # Saving every batch would put a write between every two replies; a token saved
                # a moment late only means a replay that the event ledger turns into a no-op.
                return
            await self._save_ready_token()

        self._last_checkpoint = asyncio.ensure_future(save())

    async def _save_ready_token(self) -> None:
        token = self._ready_token
        if token is None or token == self._saved_token:
            return
        self._last_save = time.monotonic()
        try:
            await self.token_store.save(token)
        except Exception:
            log.exception("could not save the sync token; the next batch will save a later one")
            return
        self._saved_token = token
        if self.on_batch_done is not None:
            await self.on_batch_done()

    async def _maintain_keys(self) -> None:
        if not self.options.e2ee:
            return
        try:
            if self.nio.should_upload_keys:
                await self.nio.keys_upload()
            if self.nio.should_query_keys:
                await self.nio.keys_query()
            if self.nio.should_claim_keys:
                await self.nio.keys_claim(self.nio.get_users_for_key_claiming())
            await self.nio.send_to_device_messages()
        except Exception:
            log.exception("end-to-end key maintenance failed")

    async def stop(self) -> None:
        self._stop.set()
        await self.dispatcher.wait_idle()
        if self._last_checkpoint is not None:
            await asyncio.gather(self._last_checkpoint, return_exceptions=True)
        if self.fatal is None:
            await self._save_ready_token()

    async def close(self) -> None:
        await self.nio.close()

    # -- invitations ---------------------------------------------------------------------
    async def _on_invite(self, room_id: str, invite: nio.InviteMemberEvent) -> None:
        inviter = invite.sender
        if not self.options.join_policy.allows(inviter):
            log.info("declining invite to %s from %s: not allowed by the join policy", room_id, inviter)
            await self.nio.room_leave(room_id)
            return
        result = await self.nio.join(room_id)
        if isinstance(result, nio.JoinError):
            log.warning("could not join %s: %s", room_id, result.message)
            return
        if invite.content.get("is_direct"):
            await self._remember_direct(inviter, room_id)
        member = MemberEvent(
            room_id=room_id,
            event_id=f"invite:{room_id}:{invite.source.get('origin_server_ts', '')}",
            sender=inviter,
            timestamp_ms=int(time.time() * 1000),
            source=invite.source,
            is_dm=bool(invite.content.get("is_direct")),
            client=self,
            membership="join",
            state_key=self.user_id,
            prev_membership="invite",
            is_direct=bool(invite.content.get("is_direct")),
        )
        await self.dispatcher.submit(member, {"client": self})

    # -- room state ----------------------------------------------------------------------
    def _note_creators(self, room_id: str, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, nio.RoomCreateEvent):
                content = event.source.get("content")
                extra = content.get("additional_creators") if isinstance(content, dict) else None
                others = [u for u in extra if isinstance(u, str)] if isinstance(extra, list) else []
                self._creators[room_id] = {event.sender, *others}

    def power_level(self, room_id: str, user_id: str) -> int:
        """The user's power level in a room, as the bot last synced it (0 when unknown).

        From room version 12 the creators hold unlimited power without being listed in the
        power levels; they count as above any listed level here.
        """
        room = self.nio.rooms.get(room_id)
        if room is None:
            return 0
        if user_id in self._creators.get(room_id, set()) and str(room.room_version) not in _CLASSIC_VERSIONS:
            return 1000
        return int(room.power_levels.get_user_level(user_id))

    # -- sending (the direct Outbound) ---------------------------------------------------
    async def send(
        self, room_id: str, content: dict[str, Any], *, event_type: str = "m.room.message", ref: str | None = None
    ) -> Sent:
        return Sent(room_id, await self.send_event(room_id, event_type, content))

    async def send_event(
        self, room_id: str, event_type: str, content: dict[str, Any], *, txn_id: str | None = None
    ) -> str:
        response = check(
            await self.nio.room_send(room_id, event_type, content, tx_id=txn_id, ignore_unverified_devices=True)
        )
        return str(response.event_id)

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> None:
        check(await self.nio.room_redact(room_id, event_id, reason=reason))

    async def download(self, mxc: str, *, max_bytes: int | None = None) -> bytes:
        """The media's bytes; with ``max_bytes``, streamed and abandoned past it (DownloadTooLarge)."""
        if max_bytes is not None:
            from bot.media import download_capped

            return await download_capped(self.nio, mxc, max_bytes)
        response = check(await self.nio.download(mxc))
        return bytes(response.body)
