"""Nudges between processes over Redis pub/sub, so nobody waits for a poll.

The bot tells the workers "timers" when a handler scheduled something (a transcription, a
reminder due now); a worker tells the bot "outbox" when a job wrote messages. The database
stays the truth: a lost nudge only means the next poll (within a second) finds the work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

log = logging.getLogger(__name__)

TIMERS = "timers"
OUTBOX = "outbox"
# A commit that may change what a board shows; the server's open boards refresh (server.board).
BOARD = "board"
PUBLISH_SECONDS = 2.0


def channel(queue: str) -> str:
    # Per queue, so that several deployments (or test bots) can share one Redis.
    return f"zhiban:{queue}:wake"


class WakeBus:
    def __init__(self, redis_url: str, queue: str) -> None:
        self.url = redis_url
        self.channel = channel(queue)
        self._redis: aioredis.Redis | None = None

    async def publish(self, topic: str, payload: str = "") -> None:
        """Send a wake-up; `payload` says more (the board's: what changed). A wake-up that
        cannot be sent is no failure of what was committed: the next poll finds the work."""
        try:
            if self._redis is None:
                self._redis = aioredis.Redis.from_url(self.url)
            # A Redis that takes the connection and never answers must not hold the caller
            # (a board action already committed, its person waiting for the answer).
            async with asyncio.timeout(PUBLISH_SECONDS):
                await self._redis.publish(self.channel, f"{topic} {payload}" if payload else topic)
        except Exception as exc:  # whatever Redis or its client raise, the commit stands
            log.warning("wake-up %s not sent: %s", topic, exc)

    async def listen(self, handlers: dict[str, Callable[[], None]]) -> None:
        """Call the handler of each topic that arrives; reconnects until cancelled."""
        await self.listen_with_payload({topic: _dropping(handler) for topic, handler in handlers.items()})

    async def listen_with_payload(self, handlers: dict[str, Callable[[str], None]]) -> None:
        """Call the handler of each topic that arrives with the payload it came with ("" for
        none); reconnects until cancelled."""
        while True:
            try:
                client = aioredis.Redis.from_url(self.url)
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        topic, _, payload = message["data"].decode(errors="replace").partition(" ")
                        handler = handlers.get(topic)
                        if handler is not None:
                            handler(payload)
            except (redis.RedisError, OSError) as exc:
                log.debug("wake-up listener lost Redis (%s); retrying", exc)
                await asyncio.sleep(2)

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()


def _dropping(handler: Callable[[], None]) -> Callable[[str], None]:
    return lambda _payload: handler()


def publish_sync(redis_url: str, queue: str, topic: str) -> None:
    """For rq jobs, which run each in a fresh event loop."""
    try:
        redis.Redis.from_url(redis_url).publish(channel(queue), topic)
    except (redis.RedisError, OSError) as exc:
        log.debug("wake-up %s not sent: %s", topic, exc)
