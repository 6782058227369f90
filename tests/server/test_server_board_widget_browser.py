"""The widget handshake in headless Chromium: a page of another origin (standing in for Element)
frames /board/widget and answers the widget API; the board signs in with the OpenID token the
real Synapse issued, without any cookie."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "notifications"))
from board_fake import FakeSource, board
from cdp import chromium, find_chromium, needs_chromium
from live_server import free_port, serve
from test_server_board_widget import openid_token, widget_settings

from records.migrate import upgrade_async
from server.app import create_app
from server.board import JsonObject
from server.session import COOKIE
from tests.support.fixtures import MakeUser, homeserver, make_user
from zhiban.local.homeserver import LocalHomeserver

__all__ = ["homeserver", "make_user"]  # fixtures, imported so this module runs standalone

BROWSER = find_chromium()
pytestmark = [
    pytest.mark.e2e,
    needs_chromium(BROWSER),
]

# The client first says it must ask the person (`state: request`), then sends the token in an
# `openid_credentials` request, as Element does for a widget it has not been told to trust.
PARENT = """<!doctype html><html><body>
<iframe id="widget" src="%(src)s" width="400" height="600"></iframe>
<script>
const token = %(token)s, widgetOrigin = %(origin)s;
window.seen = [];
const frame = document.getElementById("widget");
window.addEventListener("message", (event) => {
  const m = event.data;
  if (event.origin !== widgetOrigin || !m || typeof m !== "object") return;
  if (m.api === "toWidget") { seen.push("answered " + m.action + " " + JSON.stringify(m.response)); return; }
  if (m.api !== "fromWidget" || m.response) return;
  seen.push("asked " + m.action);
  const response = m.action === "get_openid" ? { state: "request" } : {};
  event.source.postMessage({ ...m, response }, event.origin);
  if (m.action === "get_openid") {
    const data = { state: "allowed", original_request_id: m.requestId, ...token };
    event.source.postMessage({ api: "toWidget", widgetId: m.widgetId, requestId: "credentials-1",
      action: "openid_credentials", data }, event.origin);
  }
});
frame.addEventListener("load", () => frame.contentWindow.postMessage(
  { api: "toWidget", widgetId: "zhiban-board", requestId: "capabilities-1", action: "capabilities", data: {} },
  widgetOrigin));
</script></body></html>"""


@dataclass
class RecordingSource(FakeSource):
    readers: list[str] = field(default_factory=list)

    async def snapshot(self, user_id: str, lang: str) -> JsonObject:
        self.readers.append(user_id)
        return await super().snapshot(user_id, lang)


async def until(condition: Callable[[], bool], bound: float = 30.0) -> None:
    """Poll a condition on the server's side (bounded, so that a broken page cannot hang the run)."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + bound
    while not condition():
        if loop.time() > give_up:
            raise AssertionError("the widget never read the board")
        await asyncio.sleep(0.1)


@asynccontextmanager
async def parent_site(port: int, page: str) -> AsyncIterator[str]:
    async def index(_: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", index)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        # "localhost" is another origin (and site) than the board's 127.0.0.1.
        yield f"http://localhost:{port}/"
    finally:
        await runner.cleanup()


async def test_the_widget_signs_in_through_its_parent_without_a_cookie(
    make_user: MakeUser, homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    assert BROWSER is not None
    dana = await make_user("dana", start=False)
    parent_port = free_port()
    parent_origin = f"http://localhost:{parent_port}"
    base_settings = widget_settings(tmp_path, homeserver)
    settings = base_settings.model_copy(
        update={"server": base_settings.server.model_copy(update={"widget_frame_ancestors": [parent_origin]})}
    )
    await upgrade_async(settings.database_url)
    source = RecordingSource({dana.user_id: board("值班车辆调度")})
    token = await openid_token(dana)
    async with serve(create_app(settings, extra={"board_source": source})) as base:
        src = f"{base}/board/widget?widgetId=zhiban-board&parentUrl={parent_origin}/"
        page_text = PARENT % {"src": src, "token": json.dumps(token), "origin": json.dumps(base)}
        async with parent_site(parent_port, page_text) as parent_url, chromium(BROWSER, tmp_path / "profile") as page:
            await page.send("Page.navigate", url=parent_url)
            await page.wait_for("(window.seen || []).includes('asked get_openid')")
            await page.wait_for("(window.seen || []).includes('answered capabilities {\"capabilities\":[]}')")
            await page.wait_for("(window.seen || []).includes('answered openid_credentials {}')")
            # The framed board read Dana's board with the token it was given, and only hers.
            await until(lambda: dana.user_id in source.readers)
            cookies = await page.send("Network.getAllCookies")
            await page.send("Page.navigate", url="about:blank")  # closes the widget's live stream
    assert set(source.readers) == {dana.user_id}
    assert not [c for c in cookies["cookies"] if c["name"] == COOKIE], "the widget holds no cookie"


async def test_the_widget_page_opened_on_its_own_says_how_to_sign_in(
    homeserver: LocalHomeserver, tmp_path: Path
) -> None:
    assert BROWSER is not None
    settings = widget_settings(tmp_path, homeserver)
    await upgrade_async(settings.database_url)
    source = RecordingSource()
    async with serve(create_app(settings, extra={"board_source": source})) as base:
        async with chromium(BROWSER, tmp_path / "profile") as page:
            await page.send("Page.navigate", url=f"{base}/board/widget?widgetId=zhiban-board")
            await page.wait_for("document.body?.dataset.ready === 'signed-out'")
            text = await page.evaluate("document.getElementById('signed-out').textContent")
    assert "挂件未获准确认您的身份" in text
    assert source.readers == [], "no client to ask, so nobody's board was read"
