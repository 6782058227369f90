"""The board as a Matrix widget (`im.vector.modular.widgets`), shown by Element beside the chat.

A framed page gets no SameSite=Lax cookie, so the widget signs in the way Matrix widgets do:
the page asks its client for an OpenID token over the widget API (`get_openid`), posts it to
`/api/board/widget-session`, and we ask our own homeserver whose token it is
(`/_matrix/federation/v1/openid/userinfo`). The answer is a short-lived session secret the page
keeps in memory and sends as `Authorization: Bearer` (server.session). Only our homeserver is
asked: a token from any other server names nobody here.

`/board/widget` may be framed by this server and by the web clients in
`server.widget_frame_ancestors`; `/board/` itself is never framed.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Annotated

import aiohttp
from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from notifications import sessions
from records import audit
from records.config import Settings
from server.errors import ApiError
from server.push_api import json_body
from server.pwa import STATIC, security_headers
from server.state import PushState, push_state

log = logging.getLogger(__name__)

router = APIRouter(tags=["board"])
USERINFO = "/_matrix/federation/v1/openid/userinfo"
ASK_SECONDS = 10.0


def frame_ancestors(settings: Settings) -> str:
    """`'self'` and the configured web clients, for the widget page's CSP."""
    return " ".join(["'self'", *settings.server.widget_frame_ancestors])


@router.get("/board/widget", include_in_schema=False)
async def widget_page(request: Request) -> Response:
    # The board's own page and script; the script sees the path and signs in as a widget.
    settings: Settings = request.app.state.settings
    headers = {**security_headers(frame_ancestors(settings)), "Cache-Control": "no-cache"}
    return FileResponse(STATIC / "board.html", media_type="text/html", headers=headers)


class OpenIdIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    access_token: str = Field(min_length=1, max_length=1024)
    matrix_server_name: str = Field(min_length=1, max_length=255)


async def _userinfo(homeserver: str, token: str) -> str | None:
    """The user id our homeserver says this OpenID token belongs to; None when it does not know it."""
    url = f"{homeserver.rstrip('/')}{USERINFO}"
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=ASK_SECONDS)) as http,
            http.get(url, params={"access_token": token}) as answer,
        ):
            if answer.status in (401, 403, 404):
                return None
            if answer.status != 200:
                raise ApiError(502, "homeserver", f"the homeserver answered {answer.status}; try again later")
            body = await answer.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        log.warning("the homeserver could not be asked about a widget's OpenID token", exc_info=True)
        raise ApiError(502, "homeserver", "the homeserver could not be reached; try again later") from None
    sub = body.get("sub") if isinstance(body, dict) else None
    return sub if isinstance(sub, str) else None


@router.post("/api/board/widget-session")
async def widget_session(request: Request, state: Annotated[PushState, Depends(push_state)]) -> JSONResponse:
    """Exchange a Matrix OpenID token (from the widget API's `get_openid`) for a bearer token."""
    try:
        given = OpenIdIn.model_validate(await json_body(request))
    except ValidationError:
        raise ApiError(422, "invalid", "send {access_token, matrix_server_name} from the widget API") from None
    settings = state.settings
    ours = settings.matrix.server_name
    if given.matrix_server_name != ours:
        raise ApiError(403, "foreign_server", f"only accounts on {ours} can use this board")
    user = await _userinfo(settings.matrix.homeserver, given.access_token)
    if user is None or user.partition(":")[2] != ours:
        raise ApiError(401, "bad_openid", "the homeserver does not know this token; reopen the widget")
    minutes = settings.server.widget_session_minutes
    async with state.db.transaction() as session:
        secret = await sessions.start(
            session,
            user,
            clock=state.clock,
            user_agent=request.headers.get("user-agent"),
            lifetime=timedelta(minutes=minutes),
        )
        await audit.record(session, actor=user, action="board.widget_signin", subject=user, clock=state.clock)
    body = {"access_token": secret, "token_type": "Bearer", "expires_in": minutes * 60, "user_id": user}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
