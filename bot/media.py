"""Downloads from the homeserver's authenticated media API, streamed under a byte cap.

The size a client declares in an event is whatever the sender wrote; the media repository may
hold a far larger file. The body is therefore read in chunks and the download is abandoned
(the connection closed) as soon as more than the cap has arrived, so a lying sender costs at
most the cap in memory and bandwidth, never the whole file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
from nio.crypto import attachments

from bot.errors import MatrixError

CHUNK = 64 * 1024
# A media download may be slow, but not endless: a stalled homeserver frees the handler.
DOWNLOAD_TIMEOUT_SECONDS = 120.0


class MediaDownloadError(MatrixError):
    """The media repository answered the download with an HTTP error ``status``."""

    def __init__(self, status: int) -> None:
        super().__init__(f"media download failed with HTTP {status}")
        self.status = status

    @property
    def permanent(self) -> bool:
        """Whether asking again cannot help: not found, forbidden, a bad request. A 401 is the
        bot's session (the sync loop signs in again); 408, 429 and 5xx are the server's moment."""
        return 400 <= self.status < 500 and self.status not in (401, 408, 429)


class DownloadTooLarge(Exception):
    """More than ``limit`` bytes arrived (or were announced); nothing was kept."""

    def __init__(self, limit: int, received: int, announced: int | None) -> None:
        self.limit = limit
        self.received = received
        self.announced = announced
        super().__init__(f"media over {limit} bytes (announced {announced}, received {received})")

    @property
    def size(self) -> int:
        """The best known size: what the server announced, else the bytes that arrived."""
        return self.announced if self.announced is not None else self.received


def media_path(mxc: str) -> str:
    """The authenticated (Matrix 1.11) download path of an ``mxc://server/id`` URI."""
    parts = urlsplit(mxc)
    media_id = parts.path.lstrip("/")
    if parts.scheme != "mxc" or not parts.netloc or not media_id or "/" in media_id:
        raise MatrixError(f"not a media URI: {mxc!r}")
    return f"/_matrix/client/v1/media/download/{quote(parts.netloc, safe='')}/{quote(media_id, safe='')}"


async def download_capped(nio_client: Any, mxc: str, max_bytes: int) -> bytes:
    """The media's bytes, or DownloadTooLarge as soon as more than ``max_bytes`` arrive."""
    headers = {"Authorization": f"Bearer {nio_client.access_token}"}
    response: aiohttp.ClientResponse = await nio_client.send(
        "GET", media_path(mxc) + "?allow_remote=true", headers=headers, timeout=DOWNLOAD_TIMEOUT_SECONDS
    )
    complete = False
    try:
        if response.status >= 400:
            raise MediaDownloadError(response.status)
        announced = response.content_length
        if announced is not None and announced > max_bytes:
            raise DownloadTooLarge(max_bytes, 0, announced)
        body = bytearray()
        async for chunk in response.content.iter_chunked(CHUNK):
            body += chunk
            if len(body) > max_bytes:
                raise DownloadTooLarge(max_bytes, len(body), announced)
        complete = True
        return bytes(body)
    finally:
        if complete:
            response.release()
        else:
            # Closing (not releasing) drops the connection instead of reading the rest of a
            # body we have refused.
            response.close()


class UndecryptableMedia(MatrixError):
    """An encrypted attachment's bytes do not open with the keys its event gave (a wrong hash,
    a malformed key): asking again would fail the same way."""


def decrypt_attachment(data: bytes, file_info: Mapping[str, Any]) -> bytes:
    """The plain bytes of an encrypted attachment, given the event's ``file`` object (JWK, iv,
    hashes) as the sender wrote it; UndecryptableMedia when they do not fit."""
    try:
        plain = attachments.decrypt_attachment(
            data, file_info["key"]["k"], file_info["hashes"]["sha256"], file_info["iv"]
        )
    except Exception as exc:  # the sender wrote the keys: any shape of wrong, and nio raises several kinds
        raise UndecryptableMedia(f"attachment does not decrypt: {exc!r}") from exc
    return bytes(plain)
