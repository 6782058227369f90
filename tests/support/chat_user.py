"""A scripted human on a real homeserver, for end-to-end tests.

`ChatUser` wraps one nio `AsyncClient` the way a person's Element would use
it: it syncs in the background, joins rooms it is invited to, sends text,
replies, thread messages, reactions and voice messages (encrypted when the
room is), and lets a test wait for what the bot says back.

Every room event the user receives is appended to one ordered log, and a
wait searches that log from a marker onwards, so a reply that arrives before
the wait starts is never missed (the bot's sync may well answer between
`send_text()` returning and the wait starting). The default marker is taken
automatically just before this user's latest action (create a room, invite,
join, send, react...), or at `start()`: "what came after what I last did".
Pass `since=u.mark()` taken at a moment of your choice to narrow it, e.g.
`since=u.mark()` right before the wait means "only events from now on". An
event whose ID is known can be awaited at any time with `wait_for_event()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self
from uuid import uuid4

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    Event,
    ForwardedRoomKeyEvent,
    InviteMemberEvent,
    JoinError,
    MatrixRoom,
    MegolmEvent,
    RoomCreateError,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomKeyEvent,
    RoomPreset,
    RoomRedactResponse,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from zhiban.local.homeserver import LocalHomeserver

__all__ = ["ChatUser", "ChatUserError", "Received"]

# Sync long-poll: the server answers at once when something happens.
SYNC_TIMEOUT_MS = 30_000
DEFAULT_PASSWORD = "correct horse battery staple"


class ChatUserError(RuntimeError):
    """The homeserver refused something the scripted user tried."""


@dataclass
class Received:
    """One room event as this user saw it (decrypted when the keys allow)."""

    seq: int
    room_id: str
    event: Event

    @property
    def event_id(self) -> str:
        return str(self.event.event_id)

    @property
    def sender(self) -> str:
        return str(self.event.sender)

    @property
    def type(self) -> str:
        return str(self.event.source.get("type", ""))

    @property
    def content(self) -> dict[str, Any]:
        """The (decrypted) event content as sent on the wire."""
        content = self.event.source.get("content", {})
        return content if isinstance(content, dict) else {}

    @property
    def body(self) -> str | None:
        body = self.content.get("body")
        return body if isinstance(body, str) else None

    @property
    def encrypted(self) -> bool:
        """True when the event reached us encrypted (decrypted or not)."""
        return isinstance(self.event, MegolmEvent) or bool(getattr(self.event, "decrypted", False))

    @property
    def undecryptable(self) -> bool:
        return isinstance(self.event, MegolmEvent)

    def __str__(self) -> str:
        return f"#{self.seq} {self.room_id} {self.sender} {self.type} {self.body!r}"


Predicate = Callable[[Received], bool]


class ChatUser:
    """One logged-in Matrix user driven by a test. Build it with `create()`."""

    def __init__(
        self,
        hs: LocalHomeserver,
        client: AsyncClient,
        *,
        password: str,
        e2e: bool,
        store_dir: Path | None,
        owns_store_dir: bool,
        auto_join: bool,
    ) -> None:
        self.hs = hs
        self.client = client
        self.password = password
        self.e2e = e2e
        self.store_dir = store_dir
        self.auto_join = auto_join
        self._owns_store_dir = owns_store_dir
        self._received: list[Received] = []
        self._cond = asyncio.Condition()
        self._sync_task: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._joining: set[str] = set()
        self._action_mark = 0  # the default `since`: before our latest action

    # -- construction ------------------------------------------------------

    @classmethod
    async def create(
        cls,
        hs: LocalHomeserver,
        localpart: str,
        *,
        e2e: bool = False,
        store_dir: Path | None = None,
        password: str = DEFAULT_PASSWORD,
        auto_join: bool = True,
        admin: bool = False,
    ) -> Self:
        """Register (idempotently) and log in; call `start()` to begin syncing.

        With `e2e=True` the crypto store lives in `store_dir` (a temporary
        folder, removed on `stop()`, when none is given). A `store_dir` that
        already holds a session for this user reuses its device and keys.
        """
        user_id = await hs.register(localpart, password, admin=admin)
        owns_store_dir = False
        if e2e and store_dir is None:
            store_dir = Path(tempfile.mkdtemp(prefix=f"chatuser-{localpart}-"))
            owns_store_dir = True
        if store_dir is not None:
            store_dir.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=e2e,
            store_sync_tokens=False,
            max_limit_exceeded=0,  # surface a 429 instead of nio's silent retry
            max_timeouts=2,
        )
        client = AsyncClient(
            hs.base_url,
            user_id,
            store_path=str(store_dir) if store_dir else "",
            config=config,
        )
        token, device_id = await cls._session(hs, client, user_id, password, store_dir)
        client.restore_login(user_id, device_id, token)  # also loads the crypto store
        return cls(
            hs,
            client,
            password=password,
            e2e=e2e,
            store_dir=store_dir,
            owns_store_dir=owns_store_dir,
            auto_join=auto_join,
        )

    @staticmethod
    async def _session(
        hs: LocalHomeserver, client: AsyncClient, user_id: str, password: str, store_dir: Path | None
    ) -> tuple[str, str]:
        """Reuse the device saved in `store_dir` when its token still works."""
        session_file = store_dir / "session.json" if store_dir else None
        if session_file and session_file.exists():
            saved = json.loads(session_file.read_text())
            client.access_token = saved["access_token"]
            whoami = await client.whoami()
            client.access_token = ""
            if isinstance(whoami, WhoamiResponse) and whoami.user_id == user_id:
                return str(saved["access_token"]), str(saved["device_id"])
        token, device_id = await hs.login(user_id, password)
        if session_file:
            session_file.write_text(json.dumps({"access_token": token, "device_id": device_id}))
        return token, device_id

    # -- facts -------------------------------------------------------------

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def device_id(self) -> str:
        return str(self.client.device_id)

    @property
    def access_token(self) -> str:
        return str(self.client.access_token)

    @property
    def received(self) -> list[Received]:
        """Everything received so far, in order (a copy)."""
        return list(self._received)

    # -- sync loop ---------------------------------------------------------

    async def start(self) -> None:
        """Do a full-state first sync, upload keys, then sync in the background."""
        if self._sync_task is not None:
            return
        self.client.add_event_callback(self._on_event, Event)
        self.client.add_event_callback(self._on_invite, InviteMemberEvent)
        self.client.add_to_device_callback(self._on_room_key, (RoomKeyEvent, ForwardedRoomKeyEvent))
        self.client.add_response_callback(self._on_sync, SyncResponse)
        first = await self.client.sync(timeout=0, full_state=True)
        if not isinstance(first, SyncResponse):
            raise ChatUserError(f"{self.user_id}: first sync failed: {first}")
        if self.client.should_upload_keys:
            # Before anyone shares a room key with us, our device keys must be public.
            await self.client.keys_upload()
        self._action_mark = self.mark()  # history from the first sync is not "new"
        self._sync_task = asyncio.create_task(self._sync_forever(), name=f"sync {self.user_id}")

    async def _sync_forever(self) -> None:
        try:
            await self.client.sync_forever(timeout=SYNC_TIMEOUT_MS, since=self.client.next_batch)
        finally:
            # Wake waiters so that they see the failure instead of timing out.
            async with self._cond:
                self._cond.notify_all()

    async def stop(self) -> None:
        """Stop syncing, close the HTTP session and drop a temporary store."""
        for task in [self._sync_task, *self._background]:
            if task is not None and not task.done():
                task.cancel()
        for task in [self._sync_task, *self._background]:
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._sync_task = None
        self._background.clear()
        await self.client.close()
        if self._owns_store_dir and self.store_dir is not None:
            shutil.rmtree(self.store_dir, ignore_errors=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def _raise_if_sync_failed(self) -> None:
        task = self._sync_task
        if task is not None and task.done() and not task.cancelled():
            error = task.exception()
            raise ChatUserError(f"{self.user_id}: sync loop stopped: {error!r}") from error

    # -- callbacks ---------------------------------------------------------

    async def _on_event(self, room: MatrixRoom, event: Event) -> None:
        async with self._cond:
            self._received.append(Received(len(self._received), room.room_id, event))
            self._cond.notify_all()

    async def _on_sync(self, _response: SyncResponse) -> None:
        # Room state (membership, new rooms) changed: re-check state waiters.
        async with self._cond:
            self._cond.notify_all()

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if not self.auto_join or event.state_key != self.user_id or event.membership != "invite":
            return
        if room.room_id in self._joining or room.room_id in self.client.rooms:
            return
        self._joining.add(room.room_id)
        # Never block the sync loop on a request.
        task = asyncio.create_task(self._join(room.room_id))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _on_room_key(self, _event: RoomKeyEvent) -> None:
        """A late room key may unlock events that arrived before it."""
        async with self._cond:
            for item in self._received:
                if isinstance(item.event, MegolmEvent):
                    with contextlib.suppress(EncryptionError):
                        item.event = self.client.decrypt_event(item.event)
            self._cond.notify_all()

    # -- waiting -----------------------------------------------------------

    def mark(self) -> int:
        """A marker: `wait_for(..., since=marker)` sees events received from here on."""
        return len(self._received)

    def _note_action(self) -> None:
        self._action_mark = self.mark()

    async def wait_for(
        self,
        predicate: Predicate,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> Received:
        """Wait for a room event matching `predicate`.

        Events received since the marker `since` count, including those that
        arrived before this call; without `since`, the marker taken just
        before this user's latest action (or at `start()`). `timeout` is a
        guard against a hung test, not a performance check.
        """
        start = self._action_mark if since is None else since
        found: list[Received] = []

        def check() -> bool:
            self._raise_if_sync_failed()
            for item in self._received[start:]:
                if predicate(item):
                    found.append(item)
                    return True
            return False

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(check), timeout)
        except TimeoutError:
            recent = "\n  ".join(str(item) for item in self._received[start:][-15:]) or "(nothing)"
            raise TimeoutError(
                f"{self.user_id}: no matching event within {timeout}s; received since marker:\n  {recent}"
            ) from None
        return found[0]

    async def wait_for_message(
        self,
        room_id: str,
        *,
        sender: str,
        contains: str | None = None,
        timeout: float = 30.0,  # noqa: ASYNC109
        since: int | None = None,
    ) -> Received:
        """Wait for an `m.room.message` from `sender` in `room_id` (body containing `contains`)."""

        def matches(item: Received) -> bool:
            return (
                item.room_id == room_id
                and item.sender == sender
                and item.type == "m.room.message"
                and (contains is None or contains in (item.body or ""))
            )

        return await self.wait_for(matches, timeout=timeout, since=since)

    async def wait_for_event(
        self,
        event_id: str,
        *,
        timeout: float = 30.0,  # noqa: ASYNC109
        allow_undecryptable: bool = False,
    ) -> Received:
        """Wait for one known event; it may have arrived already (event IDs are unique).

        An encrypted event counts once it is decrypted, unless `allow_undecryptable`.
        """

        def matches(item: Received) -> bool:
            return item.event_id == event_id and (allow_undecryptable or not item.undecryptable)

        return await self.wait_for(matches, timeout=timeout, since=0)

    async def _wait_state(self, check: Callable[[], bool], what: str, timeout: float) -> None:  # noqa: ASYNC109
        def guarded() -> bool:
            self._raise_if_sync_failed()
            return check()

        try:
            async with self._cond:
                await asyncio.wait_for(self._cond.wait_for(guarded), timeout)
        except TimeoutError:
            raise TimeoutError(f"{self.user_id}: {what} not seen within {timeout}s") from None

    async def wait_for_room(self, room_id: str, *, timeout: float = 30.0) -> MatrixRoom:  # noqa: ASYNC109
        """Wait until the room shows up as joined in our sync."""
        await self._wait_state(lambda: room_id in self.client.rooms, f"room {room_id}", timeout)
        return self.client.rooms[room_id]

    async def wait_for_member(
        self,
        room_id: str,
        user_id: str,
        *,
        membership: str = "join",
        timeout: float = 30.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until our view of `room_id` shows `user_id` with `membership` (join or invite)."""

        def check() -> bool:
            room = self.client.rooms.get(room_id)
            if room is None:
                return False
            if membership == "invite":
                return user_id in room.invited_users
            return user_id in room.users and user_id not in room.invited_users

        await self._wait_state(check, f"{membership} of {user_id} in {room_id}", timeout)

    # -- rooms -------------------------------------------------------------

    async def create_room(
        self,
        invite: Iterable[str] = (),
        *,
        direct: bool = False,
        encrypted: bool = False,
        name: str | None = None,
    ) -> str:
        """Create a private room (or DM) and return its ID once our sync has it."""
        self._note_action()
        initial_state: list[dict[str, Any]] = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        response = await self.client.room_create(
            name=name,
            is_direct=direct,
            preset=RoomPreset.trusted_private_chat if direct else RoomPreset.private_chat,
            invite=list(invite),
            initial_state=initial_state,
        )
        if isinstance(response, RoomCreateError) or not isinstance(response, RoomCreateResponse):
            raise ChatUserError(f"{self.user_id}: create room failed: {response}")
        await self.wait_for_room(response.room_id)
        return str(response.room_id)

    async def join(self, room_id: str) -> None:
        """Join a room and wait until our sync shows it."""
        self._note_action()
        await self._join(room_id)

    async def _join(self, room_id: str) -> None:
        # Also used by auto-join, which is not the test's action: no marker.
        try:
            response = await self.client.join(room_id)
            if isinstance(response, JoinError):
                raise ChatUserError(f"{self.user_id}: join {room_id} failed: {response}")
            await self.wait_for_room(room_id)
        finally:
            self._joining.discard(room_id)

    async def invite(self, room_id: str, user_id: str) -> None:
        self._note_action()
        response = await self.client.room_invite(room_id, user_id)
        if not isinstance(response, RoomInviteResponse):
            raise ChatUserError(f"{self.user_id}: invite {user_id} failed: {response}")

    # -- sending -----------------------------------------------------------

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send any room event, encrypted when the room is (as Element does)."""
        self._note_action()
        room = self.client.rooms.get(room_id) or await self.wait_for_room(room_id)
        encrypt = self.e2e and room.encrypted
        if encrypt and self.client.should_query_keys:
            # A member who just joined: learn their devices before sharing the room key.
            await self.client.keys_query()
        if encrypt and event_type == "m.reaction":
            # nio leaves reactions in clear text; Element encrypts them (keeping
            # m.relates_to outside the ciphertext). Reuse nio's path with a
            # temporary type, then send the ciphertext as-is.
            response = await self._send_encrypted_reaction(room_id, content)
        else:
            response = await self.client.room_send(room_id, event_type, content, ignore_unverified_devices=True)
        if not isinstance(response, RoomSendResponse):
            raise ChatUserError(f"{self.user_id}: send {event_type} to {room_id} failed: {response}")
        return str(response.event_id)

    async def _send_encrypted_reaction(self, room_id: str, content: dict[str, Any]) -> Any:
        room = self.client.rooms[room_id]
        if not room.members_synced:
            await self.client.joined_members(room_id)
        if self.client.olm is not None and self.client.olm.should_share_group_session(room_id):
            await self.client.share_group_session(room_id, ignore_unverified_devices=True)
        event_type, encrypted = self.client.encrypt(room_id, "m.reaction", content)
        # room_send would skip encryption for m.reaction, and would encrypt an
        # m.room.encrypted payload a second time: send one level down.
        method, path, data = Api.room_send(self.client.access_token, room_id, event_type, encrypted, uuid4())
        return await self.client._send(RoomSendResponse, method, path, data, (room_id,))

    async def send_text(
        self,
        room_id: str,
        body: str,
        *,
        html: str | None = None,
        reply_to: str | None = None,
        thread_root: str | None = None,
        notice: bool = False,
    ) -> str:
        """Send a text message; optionally HTML, a reply, and/or in a thread."""
        content: dict[str, Any] = {"msgtype": "m.notice" if notice else "m.text", "body": body}
        if html is not None:
            content["format"] = "org.matrix.custom.html"
            content["formatted_body"] = html
        if thread_root is not None:
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": thread_root,
                # Clients without threads see a reply to the latest event.
                "is_falling_back": reply_to is None,
                "m.in_reply_to": {"event_id": reply_to or thread_root},
            }
        elif reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send(room_id, "m.room.message", content)

    async def react(self, room_id: str, event_id: str, key: str) -> str:
        """Annotate `event_id` with a reaction `key` (e.g. "👍")."""
        content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}}
        return await self.send(room_id, "m.reaction", content)

    async def redact(self, room_id: str, event_id: str, reason: str | None = None) -> str:
        self._note_action()
        response = await self.client.room_redact(room_id, event_id, reason=reason)
        if not isinstance(response, RoomRedactResponse):
            raise ChatUserError(f"{self.user_id}: redact {event_id} failed: {response}")
        return str(response.event_id)

    async def upload(
        self, data: bytes, *, mimetype: str, filename: str, encrypt: bool
    ) -> tuple[str, dict[str, Any] | None]:
        """Upload media; returns (mxc URI, decryption info for an encrypted file)."""
        response, keys = await self.client.upload(
            io.BytesIO(data),
            content_type=mimetype,
            filename=filename,
            encrypt=encrypt,
            filesize=len(data),
        )
        if not isinstance(response, UploadResponse):
            raise ChatUserError(f"{self.user_id}: upload failed: {response}")
        return str(response.content_uri), keys

    async def send_voice(
        self,
        room_id: str,
        ogg_bytes: bytes,
        duration_ms: int,
        mimetype: str = "audio/ogg",
        *,
        waveform: list[int] | None = None,
    ) -> str:
        """Send a voice message shaped like Element's (MSC3245 + MSC1767 audio)."""
        room = self.client.rooms.get(room_id) or await self.wait_for_room(room_id)
        encrypt = self.e2e and room.encrypted
        filename = "Voice message.ogg"
        mxc, keys = await self.upload(ogg_bytes, mimetype=mimetype, filename=filename, encrypt=encrypt)
        info = {"mimetype": mimetype, "size": len(ogg_bytes), "duration": duration_ms}
        file_part: dict[str, Any] = {"name": filename, "mimetype": mimetype, "size": len(ogg_bytes)}
        content: dict[str, Any] = {
            "msgtype": "m.audio",
            "body": filename,
            "info": info,
            "org.matrix.msc1767.text": "Voice message",
            "org.matrix.msc1767.audio": {"duration": duration_ms, "waveform": waveform or [0] * 32},
            "org.matrix.msc3245.voice": {},
        }
        if keys is not None:
            encrypted_file = {"url": mxc, **keys}
            content["file"] = encrypted_file
            file_part["file"] = encrypted_file
        else:
            content["url"] = mxc
            file_part["url"] = mxc
        content["org.matrix.msc1767.file"] = file_part
        return await self.send(room_id, "m.room.message", content)

    async def download(self, mxc: str) -> bytes:
        """Fetch media (authenticated media API); the raw, possibly encrypted bytes."""
        response = await self.client.download(mxc=mxc)
        body = getattr(response, "body", None)
        if not isinstance(body, bytes):
            raise ChatUserError(f"{self.user_id}: download {mxc} failed: {response}")
        return body
