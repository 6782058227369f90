"""The Matrix side: a nio client, the sync loop, event conversion, joins and sending.

The framework, not nio, owns the sync token: it is saved only after every event of a
batch has been handled, so a crash replays what was not finished (and the application's
event ledger turns a replay of what was finished into a no-op).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import nio

from bot.dispatcher import Dispatcher
from bot.errors import MatrixError, check
from bot.outbound import Sent
from bot.rooms import RoomCalls
from bot.types import Event, Media, MemberEvent, Message, ReactionEvent, ReceiptEvent, RedactionEvent, mentions_in

log = logging.getLogger(__name__)


# Room versions in which creators have only the power the power-levels event gives them.
_CLASSIC_VERSIONS = {str(v) for v in range(1, 12)}


class TokenStore(Protocol):
    async def load(self) -> str | None: ...

    async def save(self, token: str) -> None: ...


class MemoryTokenStore:
    def __init__(self) -> None:
        self.token: str | None = None

    async def load(self) -> str | None:
        return self.token

    async def save(self, token: str) -> None:
        self.token = token


@dataclass
class JoinPolicy:
    """Whose invitations the bot accepts: listed servers (":office.example") or users."""

    allowed_servers: list[str] = field(default_factory=list)
    allowed_users: list[str] = field(default_factory=list)

    def allows(self, user_id: str) -> bool:
        if user_id in self.allowed_users:
            return True
        server = user_id.split(":", 1)[1] if ":" in user_id else ""
        return "*" in self.allowed_servers or server in self.allowed_servers


@dataclass
class ClientOptions:
    homeserver: str
    user_id: str
    password: str | None = None
    access_token: str | None = None
    device_id: str | None = None
    device_name: str = "Zhiban bot"
    store_dir: Path | None = None
    e2ee: bool = True
    encrypt_new_rooms: bool = True
    join_policy: JoinPolicy = field(default_factory=JoinPolicy)
    # Commands older than this when they arrive (the bot was down) are not acted on.
    max_event_age_s: float = 6 * 3600
    # Where read receipts are handed to the `receipt` observer: "direct" (DM rooms), "all", "none".
    # Every member's every read in a shared room is a receipt; a bot mostly cares who read what
    # it sent someone in person, and each event handled costs a transaction in most applications.
    receipt_rooms: str = "direct"
    sync_timeout_ms: int = 30_000


class BotClient(RoomCalls):
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
        self.direct_rooms: dict[str, list[str]] = {}
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
        # DM rooms created but not yet seen in a sync, and one creation at a time per person.
        self._pending_dm: dict[str, str] = {}
        self._dm_locks: dict[str, asyncio.Lock] = {}
        self._direct_lock = asyncio.Lock()

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
            content = getattr(event, "content", None)
            if getattr(event, "type", None) == "m.direct" and isinstance(content, dict):
                self.direct_rooms = {
                    u: [r for r in rooms if isinstance(r, str)]
                    for u, rooms in content.items()
                    if isinstance(rooms, list)
                }
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

    # -- converting events ---------------------------------------------------------------
    def is_dm(self, room_id: str) -> bool:
        if any(room_id in rooms for rooms in self.direct_rooms.values()):
            return True
        room = self.nio.rooms.get(room_id)
        # Rooms that nobody marked direct but hold just the bot and one person act as DMs.
        return room is not None and room.member_count == 2 and not room.name

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

    def convert(self, room_id: str, raw: Any) -> Event | None:
        """Turn a (decrypted) nio event into a framework event, or None to ignore it."""
        source = getattr(raw, "source", None) or {}
        if isinstance(raw, nio.MegolmEvent):
            log.warning("could not decrypt %s in %s (session %s)", raw.event_id, room_id, raw.session_id)
            return None
        sender = source.get("sender") or getattr(raw, "sender", "")
        if not isinstance(sender, str) or sender == self.user_id:
            return None
        if not self.options.join_policy.allows(sender):
            # Someone from outside the office (a federated room): not ours to serve.
            return None
        ts = int(source.get("origin_server_ts") or getattr(raw, "server_timestamp", 0) or 0)
        if ts and ts < self._started_ms - self.options.max_event_age_s * 1000:
            return None
        common: dict[str, Any] = {
            "room_id": room_id,
            "event_id": source.get("event_id") or getattr(raw, "event_id", ""),
            "sender": sender,
            "timestamp_ms": ts,
            "source": source,
            "is_dm": self.is_dm(room_id),
            "client": self,
        }
        etype = source.get("type")
        content = source.get("content") or {}
        if not isinstance(content, dict):
            return None
        if etype == "m.reaction" or isinstance(raw, nio.ReactionEvent):
            rel = content.get("m.relates_to") or {}
            if not isinstance(rel, dict) or not rel.get("key") or not rel.get("event_id"):
                return None
            return ReactionEvent(**common, key=str(rel["key"]), reacts_to=str(rel["event_id"]))
        if etype == "m.room.redaction":
            redacts = source.get("redacts") or content.get("redacts") or ""
            return RedactionEvent(**common, redacts=str(redacts), reason=content.get("reason"))
        if etype == "m.room.member":
            return MemberEvent(
                **common,
                membership=str(content.get("membership", "")),
                state_key=str(source.get("state_key", "")),
                prev_membership=(source.get("unsigned") or {}).get("prev_content", {}).get("membership"),
                is_direct=bool(content.get("is_direct")),
            )
        if etype == "m.room.message":
            return self._message(common, content)
        return None

    def receipts(self, room_id: str, ephemeral: list[Any]) -> list[ReceiptEvent]:
        """The read receipts of other people in a room's ephemeral events (see `receipt_rooms`)."""
        wanted = self.options.receipt_rooms
        if wanted == "none" or (wanted == "direct" and not self.is_dm(room_id)):
            return []
        oldest = self._started_ms - self.options.max_event_age_s * 1000
        found: list[ReceiptEvent] = []
        for raw in ephemeral:
            if not isinstance(raw, nio.ReceiptEvent):
                continue
            for receipt in raw.receipts:
                kind = str(receipt.receipt_type)
                user = receipt.user_id
                if kind not in ("m.read", "m.read.private") or user == self.user_id:
                    continue
                if not self.options.join_policy.allows(user) or (receipt.timestamp and receipt.timestamp < oldest):
                    continue
                # The same receipt replayed gives the same id, so the ledger sees it once.
                digest = hashlib.sha256(f"{room_id}|{user}|{receipt.event_id}|{kind}".encode()).hexdigest()
                found.append(
                    ReceiptEvent(
                        room_id=room_id,
                        event_id=f"receipt:{digest[:40]}",
                        sender=user,
                        timestamp_ms=int(receipt.timestamp or 0),
                        source={"type": "m.receipt", "event_id": receipt.event_id, "receipt_type": kind},
                        is_dm=self.is_dm(room_id),
                        client=self,
                        read_up_to=receipt.event_id,
                        receipt_type=kind,
                        thread_id=receipt.thread_id,
                    )
                )
        return found

    def _message(self, common: dict[str, Any], content: dict[str, Any]) -> Message | None:
        msgtype = content.get("msgtype")
        body = content.get("body")
        if not isinstance(msgtype, str) or not isinstance(body, str):
            return None  # malformed: ignore rather than guess
        rel: dict[str, Any] = _dict(content.get("m.relates_to"))
        if rel.get("rel_type") == "m.replace":
            return None  # edits of earlier messages are not new commands
        thread_root = rel.get("event_id") if rel.get("rel_type") == "m.thread" else None
        in_reply = _dict(rel.get("m.in_reply_to"))
        reply_to = None if rel.get("is_falling_back") else in_reply.get("event_id")
        media = None
        if msgtype in ("m.audio", "m.file", "m.image", "m.video"):
            info = _dict(content.get("info"))
            file = content.get("file") if isinstance(content.get("file"), dict) else None
            media = Media(
                url=(file or {}).get("url") or content.get("url"),
                mimetype=info.get("mimetype"),
                size=info.get("size") if isinstance(info.get("size"), int) else None,
                duration_ms=info.get("duration") if isinstance(info.get("duration"), int) else None,
                encrypted_file=file,
            )
        html = content.get("formatted_body") if content.get("format") == "org.matrix.custom.html" else None
        body = _strip_reply_fallback(body) if reply_to else body
        return Message(
            **common,
            body=body,
            html=html if isinstance(html, str) else None,
            msgtype=msgtype,
            thread_root=thread_root,
            reply_to=reply_to,
            mentions=mentions_in(content),
            media=media,
            is_voice=msgtype == "m.audio",
        )

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

    async def dm_room(self, user_id: str) -> str:
        """The direct-message room with a user, created (and marked direct) when there is none."""
        async with self._dm_locks.setdefault(user_id, asyncio.Lock()):
            return await self._dm_room(user_id)

    async def _dm_room(self, user_id: str) -> str:
        pending = self._pending_dm.get(user_id)
        if pending is not None:
            if pending not in self.nio.rooms:
                return pending
            del self._pending_dm[user_id]  # synced now: checked like any other below
        for room_id in self.direct_rooms.get(user_id, []):
            room = self.nio.rooms.get(room_id)
            if room is None and room_id not in self.nio.invited_rooms:
                # Not synced yet (the bot just started): the m.direct entry is all we know, and
                # a room we have left would have been dropped from it.
                if not self.synced.is_set():
                    return room_id
                continue
            if room is not None and (user_id in room.users or user_id in room.invited_users):
                return room_id
        unrecorded = self._unrecorded_dm(user_id)
        if unrecorded is not None:
            await self._remember_direct(user_id, unrecorded)
            return unrecorded
        initial_state = []
        if self.options.e2ee and self.options.encrypt_new_rooms:
            initial_state.append(
                {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
            )
        response = check(
            await self.nio.room_create(
                is_direct=True,
                invite=[user_id],
                preset=nio.RoomPreset.trusted_private_chat,
                initial_state=initial_state,
            )
        )
        self._pending_dm[user_id] = str(response.room_id)
        try:
            await self._remember_direct(user_id, response.room_id)
        except Exception:  # the room exists and works; a stale m.direct only costs a lookup later
            log.warning("could not record the DM room with %s in m.direct", user_id, exc_info=True)
        return str(response.room_id)

    def _unrecorded_dm(self, user_id: str) -> str | None:
        """A DM room the bot made for this person and never wrote into `m.direct`.

        A bot killed between the homeserver creating the room and the `m.direct` write would
        otherwise make a second one after its restart, and the person would be invited twice.
        Such a room is known by what it is: made by the bot, unnamed (the only other rooms the
        bot makes, incident rooms, have names), and holding just the two of them.
        """
        for room_id, room in self.nio.rooms.items():
            if self.user_id not in self._creators.get(room_id, set()) or room.name:
                continue
            if {*room.users, *room.invited_users} == {self.user_id, user_id}:
                return room_id
        return None

    def dm_owners(self) -> dict[str, str]:
        """DM room id → the person it is with, including rooms created but not yet synced."""
        owners = {room: user for user, rooms in self.direct_rooms.items() for room in rooms}
        owners.update({room: user for user, room in self._pending_dm.items()})
        return owners

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        rooms = self.direct_rooms.setdefault(user_id, [])
        if room_id in rooms:
            return
        rooms.insert(0, room_id)
        # One write at a time, each with the whole map as it stands: DM rooms created
        # concurrently cannot overwrite one another's entries.
        async with self._direct_lock:
            for user, pending in self._pending_dm.items():
                known = self.direct_rooms.setdefault(user, [])
                if pending not in known:
                    known.insert(0, pending)
            path = f"/_matrix/client/v3/user/{quote(self.user_id)}/account_data/m.direct"
            headers = {"Authorization": f"Bearer {self.nio.access_token}", "Content-Type": "application/json"}
            response = await self.nio.send("PUT", path, json.dumps(self.direct_rooms), headers=headers)
            if response.status >= 400:
                raise MatrixError(f"m.direct update failed with HTTP {response.status}")

    async def download(self, mxc: str, *, max_bytes: int | None = None) -> bytes:
        """The media's bytes; with ``max_bytes``, streamed and abandoned past it (DownloadTooLarge)."""
        if max_bytes is not None:
            from bot.media import download_capped

            return await download_capped(self.nio, mxc, max_bytes)
        response = check(await self.nio.download(mxc))
        return bytes(response.body)


def _dict(value: Any) -> dict[str, Any]:
    """A JSON object from an event, or an empty one when the sender put something else there."""
    return value if isinstance(value, dict) else {}


def _strip_reply_fallback(body: str) -> str:
    # Replies quote the original as "> <@user> text" lines followed by a blank line.
    lines = body.splitlines()
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines) if lines else body
