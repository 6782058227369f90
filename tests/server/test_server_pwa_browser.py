"""The push page in headless Chromium: sign-in link, service worker, subscribe button, recent notices.

Chromium here cannot reach a real push service, so `pushManager.subscribe()` is stubbed to
return a subscription of the in-repo fake push service; everything else is the real page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from cdp import chromium, find_chromium, needs_chromium
from fake_push_service import FakePushService
from live_server import serve
from push_env import make_settings

from notifications import signin
from notifications.models import PushSubscription
from notifications.notice import NoticeSpec
from notifications.service import notify
from records.clock import SystemClock
from records.db import Database
from records.migrate import upgrade_async
from server.app import create_app

BROWSER = find_chromium()
pytestmark = needs_chromium(BROWSER)
USER = "@zheng:office.test"

STUB = """
(() => {
  const sub = %s;
  if (self.PushManager) {
    PushManager.prototype.subscribe = async function (options) {
      self.__subscribeKeyLength = options.applicationServerKey.byteLength;
      return { toJSON: () => sub, endpoint: sub.endpoint };
    };
  }
  if (self.Notification) { Notification.requestPermission = async () => "granted"; }
})();
"""


async def test_page_signs_in_registers_worker_and_subscribes(tmp_path: Path) -> None:
    assert BROWSER is not None
    settings = make_settings(tmp_path)
    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    clock = SystemClock()
    async with db.transaction() as session:
        token = await signin.create_link(session, USER, minutes=15, clock=clock)
        await notify(session, [USER], NoticeSpec(kind="approval", title="请审批 A12", body="防汛物资采购"), clock=clock)
    async with FakePushService() as fake, serve(create_app(settings)) as base_url:
        browser_sub = fake.create_subscription()
        async with chromium(BROWSER, tmp_path / "profile") as page:
            await page.send("Page.addScriptToEvaluateOnNewDocument", source=STUB % json.dumps(browser_sub.to_json()))
            # Opening the link signs in: the page's script submits the form, the server redirects.
            await page.send("Page.navigate", url=f"{base_url}/push/signin/{token}")
            await page.wait_for("location.pathname === '/push/' && document.body?.dataset.ready === 'signed-in'")

            assert await page.evaluate("document.getElementById('subscribe').textContent") == "开通本设备推送"
            assert "请审批 A12" in await page.evaluate("document.getElementById('notices').textContent")
            assert await page.wait_for("navigator.serviceWorker.getRegistration('/push/').then(r => !!(r && r.active))")
            assert await page.evaluate("document.cookie") == "", "the session cookie is HttpOnly"

            await page.evaluate("document.getElementById('subscribe').click()")
            await page.wait_for("document.getElementById('status').textContent === '已开通。'")
            assert await page.evaluate("self.__subscribeKeyLength") == 65

            await page.evaluate("document.getElementById('lang').click()")
            assert (
                await page.evaluate("document.getElementById('subscribe').textContent") == "Push is on for this device"
            )
    async with db.transaction() as session:
        [row] = list(await session.scalars(select(PushSubscription)))
    await db.dispose()
    assert (row.user_id, row.endpoint, row.p256dh) == (USER, browser_sub.endpoint, browser_sub.p256dh)
