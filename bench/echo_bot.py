"""The baseline of the round-trip benchmark: a bare matrix-nio echo bot.

It answers "pong" (as a reply to the ping) to any text starting with a prefix, in the same room, with
nothing between nio and the reply: no framework, no database, no middleware.
Whatever our bot adds on top of this is our overhead.

Fairness: the first (full-state) sync runs before the callback is installed,
and events older than the bot (a joined room's history) are skipped, so
history is never answered; replies are sent from tasks so that a slow send
never delays the next long-poll; invites are joined so a benchmark can set it
up like the real bot.

Manual use::

    python -m bench.echo_bot http://127.0.0.1:8008 @echo:localhost TOKEN DEVICE
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, MatrixRoom, RoomMessageText

__all__ = ["run_echo_bot"]


async def run_echo_bot(
    homeserver_url: str,
    user_id: str,
    access_token: str,
    device_id: str,
    *,
    prefix: str = "!ping",
    ready: asyncio.Event | None = None,
) -> None:
    """Run until cancelled. `ready` is set once old events are behind us."""
    client = AsyncClient(
        homeserver_url,
        user_id,
        device_id=device_id,
        config=AsyncClientConfig(encryption_enabled=False, max_limit_exceeded=0),
    )
    client.restore_login(user_id, device_id, access_token)
    pending: set[asyncio.Task[Any]] = set()
    # A room joined later arrives with its recent history: skip what predates us.
    started_ms = int(time.time() * 1000)

    def spawn(coro: Any) -> None:
        task = asyncio.create_task(coro)
        pending.add(task)
        task.add_done_callback(pending.discard)

    async def on_text(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id and event.server_timestamp >= started_ms and event.body.startswith(prefix):
            # The reply relation lets a benchmark pair each pong with its ping.
            content = {
                "msgtype": "m.text",
                "body": "pong",
                "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
            }
            spawn(client.room_send(room.room_id, "m.room.message", content))

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == user_id and event.membership == "invite":
            spawn(client.join(room.room_id))

    try:
        # Old events: consumed here, before any callback can answer them.
        await client.sync(timeout=0, full_state=True)
        client.add_event_callback(on_text, RoomMessageText)  # type: ignore[arg-type]
        client.add_event_callback(on_invite, InviteMemberEvent)  # type: ignore[arg-type]
        # Invites that were already pending before we started.
        for room_id in list(client.invited_rooms):
            spawn(client.join(room_id))
        if ready is not None:
            ready.set()
        await client.sync_forever(timeout=30_000, since=client.next_batch)
    finally:
        for task in pending:
            task.cancel()
        await client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Bare matrix-nio echo bot (benchmark baseline)")
    parser.add_argument("homeserver_url")
    parser.add_argument("user_id")
    parser.add_argument("access_token")
    parser.add_argument("device_id")
    parser.add_argument("--prefix", default="!ping")
    args = parser.parse_args()
    try:
        asyncio.run(
            run_echo_bot(args.homeserver_url, args.user_id, args.access_token, args.device_id, prefix=args.prefix)
        )
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
