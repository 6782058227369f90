"""Sign-in links: GET shows a page, POST uses the link up and sets the session cookie.

Why two steps: chat servers and clients fetch links to build previews, and a preview must
not use up a one-time link. Browsers run the page's script, which submits at once, so for
a person it still feels like "open the link and you are in".
"""

from __future__ import annotations

import html
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from notifications import sessions, signin
from records import audit
from server.session import COOKIE, cookie_session, current_user
from server.state import PushState, push_state

router = APIRouter(tags=["sign-in"])

_MESSAGES = {
    "unknown": (
        404,
        "链接无效。请在聊天中重新发送 !推送 获取新链接。",
        "This link is not valid. Send !push in chat for a new one.",
    ),
    "expired": (
        410,
        "链接已过期。请在聊天中重新发送 !推送。",
        "This link has expired. Send !push in chat for a new one.",
    ),
    "used": (
        410,
        "链接已使用过，每个链接只能用一次。请重新发送 !推送。",
        "This link was already used; each link works once. Send !push again.",
    ),
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/push/static/style.css">
</head><body><main class="card">{body}</main>
<script src="/push/static/signin.js"></script>
</body></html>"""
    return HTMLResponse(
        document,
        status_code=status,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"},
    )


def _refusal(reason: str) -> HTMLResponse:
    status, zh, en = _MESSAGES[reason]
    return _page(
        "值班助手 Zhiban",
        f'<h1>值班助手</h1><p class="error" data-reason="{reason}">{zh}</p><p lang="en">{en}</p>',
        status,
    )


# Where a sign-in may lead: our own pages only, so that a link cannot send a person elsewhere.
_NEXT = {"/push/": "/push/", "/board": "/board/", "/board/": "/board/"}


NextPage = Annotated[str | None, Query(alias="next")]


def _next(value: str | None) -> str:
    return _NEXT.get(value or "", "/push/")


@router.get("/push/signin/{token}")
async def signin_page(
    token: str, state: Annotated[PushState, Depends(push_state)], next_page: NextPage = None
) -> Response:
    async with state.db.transaction() as session:
        try:
            user = await signin.peek(session, token, clock=state.clock)
        except signin.SignInError as exc:
            return _refusal(exc.reason)
    target = _next(next_page)
    action = html.escape(f"/push/signin/{token}" + ("" if target == "/push/" else f"?next={target}"))
    return _page(
        "登录 Sign in",
        f"""<h1>值班助手</h1>
<p>以 <b>{html.escape(user)}</b> 登录本浏览器，开通手机推送。</p>
<p lang="en">Sign this browser in as <b>{html.escape(user)}</b> to get push notifications.</p>
<form method="post" action="{action}" id="signin"><button type="submit">登录 / Sign in</button></form>""",
    )


@router.post("/push/signin/{token}")
async def signin_submit(
    request: Request, token: str, state: Annotated[PushState, Depends(push_state)], next_page: NextPage = None
) -> Response:
    async with state.db.transaction() as session:
        try:
            user = await signin.redeem(session, token, clock=state.clock)
        except signin.SignInError as exc:
            return _refusal(exc.reason)
        secret = await sessions.start(
            session,
            user,
            days=state.settings.server.session_days,
            clock=state.clock,
            user_agent=request.headers.get("user-agent"),
        )
        await audit.record(session, actor=user, action="push.signin", subject=user, clock=state.clock)
    response = RedirectResponse(_next(next_page), status_code=303)
    secure = state.settings.server.public_url.startswith("https://")
    state.signer.set_cookie(response, user, secret, int(state.clock.now().timestamp()), secure=secure)
    return response


def _signed_out() -> Response:
    response = RedirectResponse("/push/", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.post("/push/signout")
async def signout(request: Request, state: Annotated[PushState, Depends(push_state)]) -> Response:
    """End this browser's session on the server, so that a copy of the cookie is worthless too."""
    signed = cookie_session(request)
    if signed is not None:
        async with state.db.transaction() as session:
            user = await sessions.end(session, signed[1])
            if user is not None:
                await audit.record(session, actor=user, action="push.signout", subject=user, clock=state.clock)
    return _signed_out()


@router.post("/push/signout-all")
async def signout_everywhere(
    user: Annotated[str, Depends(current_user)], state: Annotated[PushState, Depends(push_state)]
) -> Response:
    """End every session of the signed-in person and turn push off on all their devices."""
    async with state.db.transaction() as session:
        ended, devices = await sessions.end_everywhere(session, user)
        await audit.record(
            session,
            actor=user,
            action="push.signout_all",
            subject=user,
            data={"sessions": ended, "devices": devices},
            clock=state.clock,
        )
    return _signed_out()
