"""A real Synapse with an HTTP pusher pointed at our gateway: a message ends as a Web Push."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from fake_push_service import FakePushService
from live_server import serve
from push_env import make_settings

from records.migrate import upgrade_async
from server.app import create_app
from tests.support.fixtures import MakeUser, homeserver, make_user

__all__ = ["homeserver", "make_user"]  # fixtures, imported so this module runs standalone

pytestmark = pytest.mark.e2e


async def wait_for_push(fake: FakePushService, sub_id: str, event_type: str, bound: float = 60.0) -> dict[str, Any]:
    """Poll until the fake push service decrypted a push of `event_type` for `sub_id`.

    Bounded so that a bug cannot hang the run. The invitation is pushed too, before the message.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + bound
    while loop.time() < give_up:
        for m in fake.received:
            payload = json.loads(m.plaintext or b"{}")
            if m.sub_id == sub_id and payload.get("type") == event_type:
                assert m.jwt_claims["aud"] == fake.origin
                assert m.ttl is not None and int(m.ttl) > 0
                return {**payload, "_urgency": m.urgency}
        await asyncio.sleep(0.1)
    raise AssertionError(f"no push arrived; requests seen: {fake.requests}")


async def test_synapse_pusher_delivers_through_gateway(make_user: MakeUser, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    await upgrade_async(settings.database_url)
    leader = await make_user("leader")
    colleague = await make_user("colleague")
    async with FakePushService() as fake, serve(create_app(settings)) as base_url:
        browser = fake.create_subscription()
        pusher = {
            "kind": "http",
            "app_id": "zhiban.web",
            "pushkey": browser.p256dh,
            "app_display_name": "Zhiban",
            "device_display_name": "phone",
            "lang": "zh",
            "data": {
                "url": f"{base_url}/_matrix/push/v1/notify",
                "endpoint": browser.endpoint,
                "auth": browser.auth,
            },
        }
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{leader.client.homeserver}/_matrix/client/v3/pushers/set",
                json=pusher,
                headers={"Authorization": f"Bearer {leader.access_token}"},
            ) as response,
        ):
            assert response.status == 200, await response.text()

        room = await colleague.create_room([leader.user_id], direct=True)
        await leader.wait_for_room(room)
        await colleague.wait_for_member(room, leader.user_id)
        await colleague.send_text(room, "请今晚八点到值班室")

        payload = await wait_for_push(fake, browser.id, "m.room.message")
        assert payload["body"] == "请今晚八点到值班室"
        assert payload["room_id"] == room and payload["sender"] == colleague.user_id
        assert payload["_urgency"] == "high", "a one-to-one message has prio high"
