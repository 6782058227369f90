"""The board page in headless Chromium with a stand-in source: live without a reload, one key
for a double submit, and readable offline from the service worker's copy."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from board_fake import FakeSource, board
from cdp import chromium, find_chromium, needs_chromium
from live_server import serve
from push_env import make_settings

from notifications import signin
from records.clock import SystemClock
from records.db import Database
from records.migrate import upgrade_async
from server.app import create_app

BROWSER = find_chromium()
pytestmark = needs_chromium(BROWSER)
USER = "@zheng:office.test"
BOARD_READY = "document.body?.dataset.ready === 'board' && document.querySelectorAll('li.item').length === %d"


async def test_live_then_offline(tmp_path: Path) -> None:
    assert BROWSER is not None
    settings = make_settings(tmp_path)
    await upgrade_async(settings.database_url)
    db = Database(settings.database_url)
    async with db.transaction() as session:
        token = await signin.create_link(session, USER, minutes=15, clock=SystemClock())
    await db.dispose()
    source = FakeSource({USER: board("防汛物资采购", late=True)})
    app = create_app(settings, extra={"board_source": source})
    async with chromium(BROWSER, tmp_path / "profile") as page:
        async with serve(app) as base:
            try:
                await page.send("Page.navigate", url=f"{base}/push/signin/{token}?next=/board")
                await page.wait_for(BOARD_READY % 1)
                await page.wait_for("navigator.serviceWorker.getRegistration('/board/').then(r => !!(r && r.active))")
                # Marked late by the data: red; the countdown runs on the server's clock (an hour left).
                assert await page.evaluate("document.querySelector('li.item').classList.contains('late')")
                assert await page.evaluate("document.querySelector('.due').textContent") in ("剩 59分", "剩 1小时")

                # A commit elsewhere reaches the open page over the stream, without a reload.
                await page.evaluate("window.__same = true")
                source.commit(USER, board("防汛物资采购", "值班车辆调度"))
                await page.wait_for(BOARD_READY % 2)
                assert await page.evaluate("window.__same === true")

                # Approving opens a form; submitting it twice before the answer sends one key.
                await page.evaluate("document.querySelector('button[data-kind=approve]').click()")
                await page.wait_for("!!document.querySelector('form.act')")
                await page.evaluate(
                    "(() => { const f = document.querySelector('form.act'); f.requestSubmit(); f.requestSubmit(); })()"
                )
                await page.wait_for("document.getElementById('notice').textContent.includes('审批通过')")
                assert len({action.key for _, action in source.actions}) == 1, source.actions
            finally:
                # The coverage goes, and the stream with it (an open stream would hold the server up).
                await page.evaluate("typeof source !== 'undefined' && source && source.close()")

        # The server is gone: the page and the last board come from the service worker's cache.
        await page.send("Page.reload")
        await page.wait_for(BOARD_READY % 2)
        assert "离线" in await page.evaluate("document.querySelector('.stale').textContent")
        assert "值班车辆调度" in await page.evaluate("document.body.innerText")
