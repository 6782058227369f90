"""Just enough of the Chrome DevTools Protocol to drive headless Chromium from a test."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def find_chromium() -> str | None:
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    return shutil.which("chromium")


def needs_chromium(browser: str | None) -> pytest.MarkDecorator:
    """The mark of a browser test: without Chromium it skips on a developer's machine, but CI
    (`.ci/run` installs Chromium and sets ZHIBAN_REQUIRE_CHROMIUM=1) fails instead of skipping."""
    missing = "Chromium is not installed (apt-get install chromium)"
    if browser is None and os.environ.get("ZHIBAN_REQUIRE_CHROMIUM") == "1":
        pytest.fail(missing + "; CI requires it (ZHIBAN_REQUIRE_CHROMIUM=1)", pytrace=False)
    return pytest.mark.skipif(browser is None, reason=missing)


class Page:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        await self._ws.send_json({"id": message_id, "method": method, "params": params})
        while True:
            message = await self._ws.receive_json()
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    async def evaluate(self, expression: str) -> Any:
        """Evaluate in the page, awaiting a promise; returns the JSON value."""
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page error: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, bound: float = 30.0) -> Any:
        """Poll an expression until it is truthy (bounded, so that a broken page cannot hang the run)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + bound
        while True:
            value = await self.evaluate(expression)
            if value:
                return value
            if loop.time() > give_up:
                raise AssertionError(f"never true in the page: {expression}")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def chromium(binary: str, profile: Path) -> AsyncIterator[Page]:
    process = await asyncio.create_subprocess_exec(
        binary,
        "--headless=new",
        "--no-sandbox",  # tests may run as root
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 60
        while not port_file.exists() or not port_file.read_text().strip():
            if process.returncode is not None or loop.time() > give_up:
                raise RuntimeError("chromium did not start")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = json.loads(await response.text())
            page_url = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with http.ws_connect(page_url, max_msg_size=0) as ws:
                page = Page(ws)
                await page.send("Page.enable")
                await page.send("Runtime.enable")
                yield page
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()
