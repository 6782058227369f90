"""Wake-ups cross processes through Redis; each deployment (queue) hears only its own."""

from __future__ import annotations

import asyncio

from zhiban.wakeup import OUTBOX, TIMERS, WakeBus, publish_sync


async def test_wake_ups_reach_listeners_of_the_same_queue_only(redis_url: str) -> None:
    heard: list[str] = []
    ready = asyncio.Event()
    mine = WakeBus(redis_url, "wake-test-a")
    other = WakeBus(redis_url, "wake-test-b")
    listener = asyncio.create_task(
        mine.listen({TIMERS: lambda: heard.append(TIMERS), OUTBOX: lambda: (heard.append(OUTBOX), ready.set())})
    )
    await asyncio.sleep(0.3)  # subscribed
    await other.publish(TIMERS)
    await mine.publish(TIMERS)
    await asyncio.to_thread(publish_sync, redis_url, "wake-test-a", OUTBOX)
    await asyncio.wait_for(ready.wait(), 10)
    listener.cancel()
    await mine.close()
    await other.close()
    assert heard == [TIMERS, OUTBOX]
