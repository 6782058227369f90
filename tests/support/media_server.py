"""A media server that lies about sizes, and the bot's real client pointed at it.

The download caps (voice notes, roster files) must hold whatever an event or a server claims.
This aiohttp server answers the Matrix media download endpoint: the files in `small` as they
are, "announced" with a huge Content-Length, and any other name as an endless chunked stream
with no length at all. It counts what it wrote, so a test can tell the client hung up early.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import BotClient, ClientOptions, Dispatcher
from bot.client import MemoryTokenStore

TOKEN = "secret-token"
HUGE = 24 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class LyingMediaServer:
    content_type: str
    filler: bytes  # repeated to make up the large files
    small: Mapping[str, bytes] = field(default_factory=dict)  # served whole, by media id
    sent: dict[str, int] = field(default_factory=dict)  # bytes written per media id asked for
    finished: set[str] = field(default_factory=set)  # large files written to the end
    url: str = ""  # the homeserver URL, once running

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return web.json_response({"errcode": "M_MISSING_TOKEN"}, status=401)
        name = request.match_info["media_id"]
        self.sent[name] = 0
        if name in self.small:
            return web.Response(body=self.small[name], content_type=self.content_type)
        response = web.StreamResponse(headers={"Content-Type": self.content_type})
        if name == "announced":
            response.content_length = HUGE
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        block = self.filler * max(1, CHUNK // len(self.filler))
        try:
            while self.sent[name] < HUGE:
                await response.write(block)
                self.sent[name] += len(block)
            await response.write_eof()
            self.finished.add(name)
        except (ConnectionResetError, asyncio.CancelledError):
            pass  # the client hung up: what we want
        return response

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LyingMediaServer]:
        async with serving(self.handle) as self.url:
            yield self


@asynccontextmanager
async def serving(handle: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> AsyncIterator[str]:
    """A homeserver whose media download endpoint answers with ``handle``; yields its URL."""
    app = web.Application()
    app.router.add_get("/_matrix/client/v1/media/download/{server}/{media_id}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@asynccontextmanager
async def bot_client(homeserver: str) -> AsyncIterator[BotClient]:
    """The bot's real client, signed in to `homeserver` with the token the server expects."""
    bot = BotClient(
        ClientOptions(homeserver=homeserver, user_id="@zhiban:localhost", e2ee=False),
        Dispatcher(),
        token_store=MemoryTokenStore(),
    )
    bot.nio.access_token = TOKEN
    try:
        yield bot
    finally:
        await bot.close()
