"""Step-up pages: /security registers a passkey or a TOTP authenticator; /confirm/<token>
completes a binding decision (签发 …) with one of them.

Both need the signed-in browser session of the push page, and the confirmation page only
serves the person the request names. Only a verified answer completes the request, once:
the request row is locked, its challenge cleared when an answer is checked (a replayed
assertion meets no challenge), a passkey's sign count must grow, a TOTP code works once,
and after `stepup.max_failures` wrong answers the request is locked. A person's wrong answers
also count together: a stolen session can ask for new links (adding an authenticator asks for
one each time), so after FAILURES_PER_PERSON wrong answers within an hour no link of theirs is
answered until the hour has passed. Every enrolment, refusal and confirmation is audited.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import sessions
from records import audit, stepup
from records.clock import as_utc
from records.stepup import PasskeyCredential, Refusal, RegistrationChallenge, StepUpRequest, TotpSecret
from server import stepup as checks
from server.board import EVERYTHING, BoardHub
from server.errors import ApiError
from server.push_api import MAX_ID
from server.session import current_user, optional_user, session_secret
from server.state import PushState, push_state

router = APIRouter(tags=["step-up"])

User = Annotated[str, Depends(current_user)]
State = Annotated[PushState, Depends(push_state)]


def _web_session(request: Request) -> str:
    """The hash of the board session's secret this request comes with (as stored in its row):
    an enrolment code after an admin's reset opens enrolment to the session that entered it."""
    return sessions.secret_hash(session_secret(request))


WebSession = Annotated[str, Depends(_web_session)]

_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; object-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_REGISTRATION_MINUTES = 5
# Wrong answers of one person, over all their links, before answers are refused for the hour
# (a 6-digit code guessed five times per fresh link would otherwise be guessed without end).
FAILURES_PER_PERSON = 10
_FAILURE_WINDOW = timedelta(hours=1)

# Why a request cannot be confirmed, as the page says it (zh, en).
_CLOSED = {
    "unknown": ("确认链接无效。", "This confirmation link is not valid."),
    "used": (
        "这项确认已完成或已失效，每个链接只能用一次。",
        "This confirmation is done or void; each link works once.",
    ),
    "expired": (
        "确认链接已过期。请在聊天中重新同意，获取新链接。",
        "This link has expired. Approve again in chat for a new one.",
    ),
    "locked": (
        "错误次数过多，这个确认链接已锁定。请在聊天中重新同意，获取新链接。",
        "Too many wrong answers: this link is locked. Approve again in chat for a new one.",
    ),
    "other": ("这个确认链接不是给您的。", "This confirmation link is not for you."),
}
_SIGN_IN = (
    "请先在聊天中发送 !推送，用手机打开登录链接，再打开本页。",
    "Send !push in chat first, open the sign-in link on this phone, then this page.",
)


def _page(title: str, body: str, status: int = 200, *, lang: str = "zh") -> HTMLResponse:
    # Both languages are on the page; `lang` picks the one the script's messages speak.
    document = f"""<!doctype html>
<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/push/static/style.css">
<link rel="stylesheet" href="/push/static/stepup.css">
</head><body><main class="card">{body}</main>
<script src="/push/static/stepup.js"></script>
</body></html>"""
    return HTMLResponse(document, status_code=status, headers=_HEADERS)


def _note(zh_en: tuple[str, str], reason: str, status: int) -> HTMLResponse:
    zh, en = zh_en
    body = f'<h1>值班助手</h1><p class="error" data-reason="{reason}">{zh}</p><p lang="en">{en}</p>'
    return _page("值班助手 Zhiban", body, status)


# -- /security: registering a passkey or a TOTP authenticator ---------------------------
@router.get("/security", include_in_schema=False)
async def security_page(request: Request, state: State) -> Response:
    user = await optional_user(request)
    if user is None:
        return _note(_SIGN_IN, "signed_out", 401)
    async with state.db.reading() as session:
        passkeys = await stepup.passkeys_of(session, user)
        totp = await session.get(TotpSecret, user)
        reset = await stepup.reset_code_state(session, user, state.clock.now(), state.settings.stepup.max_failures)
        if reset == "entered" and await stepup.code_entered_by(session, user) != _web_session(request):
            reset = "elsewhere"
    has_totp = totp is not None and totp.confirmed_at is not None
    zone = ZoneInfo(state.settings.default_tz)
    listed = "".join(
        f"<li>通行密钥 Passkey #{key.id} · {as_utc(key.created_at).astimezone(zone):%Y-%m-%d} "
        f'<button class="secondary" type="button" data-remove-passkey="{key.id}">移除 / Remove</button></li>'
        for key in passkeys
    )
    remove_totp = (
        '<button class="secondary" id="remove-totp" type="button">关闭动态验证码 / Remove codes</button>'
        if has_totp
        else ""
    )
    none_left = (
        ""
        if passkeys or has_totp
        else '<p class="error" id="no-factor">还没有验证方式：签发等重要决定暂时无法确认，请先添加。 '
        '<span lang="en">No way to confirm yet: binding decisions such as 签发 cannot be confirmed '
        "until you add one.</span></p>"
    )
    code_part = "" if passkeys or has_totp else _RESET_CODE_PARTS.get(reset or "", "")
    return _page(
        "安全设置 Security",
        f"""<h1>安全设置</h1>
<p>签发等重要决定需要在手机上确认。添加通行密钥（本机屏幕锁或指纹）；手机不支持时，用动态验证码。</p>
<p lang="en">Binding decisions such as 签发 are confirmed on your phone: add a passkey (this phone's screen lock or fingerprint), or a one-time code app where passkeys are not available.</p>
<p>添加或移除验证方式前，需先用已有的一种确认。 <span lang="en">Adding or removing one asks you to confirm with one you have first.</span></p>
<section id="security" data-user="{html.escape(user)}" data-passkeys="{len(passkeys)}" data-totp="{int(has_totp)}">
{none_left}
{code_part}
<h2>通行密钥 Passkeys</h2>
<p id="passkey-count">已添加 {len(passkeys)} 个。 <span lang="en">Added: {len(passkeys)}.</span></p>
<ul id="passkeys">{listed}</ul>
<button class="primary" id="add-passkey" type="button">添加通行密钥 / Add a passkey</button>
<h2>动态验证码 One-time codes</h2>
<p id="totp-state">{"已开启。" if has_totp else "未开启。"} <span lang="en">{"On." if has_totp else "Off."}</span></p>
{remove_totp}
<button class="secondary" id="start-totp" type="button">设置动态验证码 / Set up codes</button>
<div id="totp-setup" hidden>
<p>在验证器应用中添加此密钥，或打开下面的链接，然后输入应用显示的 6 位数字。</p>
<p lang="en">Add this key to an authenticator app, or open the link below, then enter the 6 digits it shows.</p>
<p><code id="totp-secret"></code></p>
<p><a id="totp-uri" href="#">otpauth</a></p>
<input id="totp-code" inputmode="numeric" autocomplete="one-time-code" maxlength="6">
<button class="primary" id="confirm-totp" type="button">确认 / Confirm</button>
</div>
</section>
<p id="status" role="status"></p>""",
    )


# After an admin's reset (records.stepup.RESET_CODE), what /security says while the first
# authenticator waits for the enrolment code the admin hands over by phone or in person.
_RESET_CODE_PARTS = {
    "needed": """<div id="reset-code">
<p class="error">管理员已重置您的验证方式。添加新的验证方式前，请输入管理员通过电话或当面告诉您的登记码。
<span lang="en">An admin reset your authenticators. Before adding a new one, enter the enrolment code the admin
gave you by phone or in person.</span></p>
<input id="enrolment-code" autocomplete="off" autocapitalize="characters" maxlength="16">
<button class="primary" id="enter-code" type="button">提交登记码 / Enter the code</button>
</div>""",
    "expired": """<p class="error" id="reset-code" data-state="expired">登记码已过期或已使用：请联系管理员再次重置，获取新的登记码。
<span lang="en">The enrolment code has expired or was used: ask an admin to reset again for a new one.</span></p>""",
    "locked": """<p class="error" id="reset-code" data-state="locked">登记码输错次数过多，已失效：请联系管理员再次重置，获取新的登记码。
<span lang="en">Too many wrong enrolment codes: this one is void. Ask an admin to reset again for a new one.</span></p>""",
    "elsewhere": """<p class="error" id="reset-code" data-state="elsewhere">登记码已在另一个登录的浏览器中输入，只有那里可以添加验证方式。如果不是您本人输入的，请立即联系管理员再次重置。
<span lang="en">The enrolment code was entered in another signed-in browser: only that one may add an authenticator.
If it was not you, ask an admin to reset again at once.</span></p>""",
}
# Why an enrolment code was not accepted: (status, zh, en).
_CODE_REFUSALS = {
    "none": (409, "没有等待登记码的重置。", "no reset waits for an enrolment code"),
    "expired": (
        410,
        "登记码已过期：请联系管理员再次重置，获取新的登记码。",
        "the enrolment code has expired: ask an admin to reset again for a new one",
    ),
    "locked": (
        410,
        "登记码输错次数过多：请联系管理员再次重置，获取新的登记码。",
        "too many wrong codes: ask an admin to reset again for a new one",
    ),
    "wrong": (403, "登记码不正确。", "that is not the enrolment code"),
}


async def _confirm_first(
    session: AsyncSession, user: str, web_session: str, state: PushState, step: str = "添加验证方式"
) -> JSONResponse | None:
    """None if `user`, signed in as `web_session`, may register an authenticator now; else a
    403 naming the confirmation page, where an authenticator they already have opens
    registration (records.stepup.ENROL), or, after an admin's reset, asking for the enrolment
    code (entered in this browser: another one's entry opens nothing here)."""
    now = state.clock.now()
    max_failures = state.settings.stepup.max_failures
    if await stepup.enrolment_open(session, user, now, web_session=web_session, max_failures=max_failures):
        return None
    if not await stepup.has_factor(session, user):
        return JSONResponse(
            {
                "error": "enrolment_code",
                "message_zh": "管理员已重置您的验证方式：请先输入管理员通过电话或当面告诉您的登记码。",
                "message": "An admin reset your authenticators: first enter the enrolment code the admin "
                "gave you by phone or in person.",
            },
            status_code=403,
            headers={"Cache-Control": "no-store"},
        )
    token = await stepup.open_request(
        session,
        user_id=user,
        kind=stepup.ENROL,
        record_id=0,
        subject="安全设置",
        title="",
        step=step,
        step_position=0,
        opinion="",
        lang=state.settings.default_lang,
        minutes=state.settings.stepup.minutes,
        clock=state.clock,
    )
    return JSONResponse(
        {
            "error": "confirm_first",
            "message": "confirm with a passkey or code you already have before changing them",
            "confirm": f"{stepup.CONFIRM_PATH}{token}",
        },
        status_code=403,
        headers={"Cache-Control": "no-store"},
    )


@router.post("/security/enrolment-code")
async def enrolment_code(
    user: User, web_session: WebSession, state: State, code: Annotated[str, Body(embed=True, max_length=32)]
) -> JSONResponse:
    """The code an admin's reset handed over out of band: entered, it opens enrolment for
    records.stepup.RESET_ENROL_MINUTES to this browser's session alone, and ends the person's
    other board sessions (the lost phone's finder may be signed in again with its chat
    account). Wrong tries are counted and audited."""
    async with state.db.transaction() as session:
        now, max_failures = state.clock.now(), state.settings.stepup.max_failures
        why = await stepup.enter_reset_code(session, user, code, now, max_failures, web_session=web_session)
        ended = await sessions.end_others(session, user, web_session) if why is None else 0
        if why in (None, "wrong"):
            await audit.record(
                session,
                actor=user,
                action="stepup.reset_code_entered" if why is None else "stepup.reset_code_refused",
                subject=user,
                data={"sessions_ended": ended} if why is None else None,
                clock=state.clock,
            )
    if why is not None:
        status, zh, en = _CODE_REFUSALS[why]
        return JSONResponse(
            {"error": "enrolment_code" if why == "wrong" else why, "message_zh": zh, "message": en},
            status_code=status,
            headers={"Cache-Control": "no-store"},
        )
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


@router.post("/security/passkey/options")
async def passkey_registration_options(user: User, web_session: WebSession, state: State) -> Response:
    rp = checks.RelyingParty.from_settings(state.settings)
    async with state.db.transaction() as session:
        await stepup.lock_person(session, user)
        if (refusal := await _confirm_first(session, user, web_session, state)) is not None:
            return refusal
        existing = await stepup.passkeys_of(session, user)
        options, challenge = checks.registration_options(rp, user, user, existing)
        await session.execute(delete(RegistrationChallenge).where(RegistrationChallenge.user_id == user))
        session.add(
            RegistrationChallenge(
                user_id=user,
                challenge=challenge,
                expires_at=state.clock.now() + timedelta(minutes=_REGISTRATION_MINUTES),
            )
        )
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


async def _add_passkey(
    session: AsyncSession,
    user: str,
    credential: dict[str, object],
    verified: tuple[str, bytes, int],
    state: PushState,
) -> None:
    credential_id, public_key, sign_count = verified
    taken = await session.scalar(select(PasskeyCredential).where(PasskeyCredential.credential_id == credential_id))
    if taken is not None:
        raise ApiError(
            409, "already_registered", "this passkey is already registered", message_zh="这个通行密钥已经添加过了。"
        )
    response = credential.get("response")
    listed = response.get("transports") if isinstance(response, dict) else None
    transports = [t for t in listed if isinstance(t, str)][:8] if isinstance(listed, list) else []
    session.add(
        PasskeyCredential(
            user_id=user,
            credential_id=credential_id,
            public_key=public_key,
            sign_count=sign_count,
            transports=transports,
            name="",
            created_at=state.clock.now(),
        )
    )
    await stepup.enrolled(session, user)
    await audit.record(
        session,
        actor=user,
        action="stepup.passkey_add",
        subject=user,
        data={"credential": credential_id},
        clock=state.clock,
    )


@router.post("/security/passkey")
async def passkey_register(
    user: User, state: State, credential: Annotated[dict[str, object], Body(embed=True)]
) -> JSONResponse:
    rp = checks.RelyingParty.from_settings(state.settings)
    async with state.db.transaction() as session:
        # Before reading anything: an admin's reset waits for this registration, or this one
        # finds its challenge gone with the reset (records.stepup.lock_person).
        await stepup.lock_person(session, user)
        pending = await session.get(RegistrationChallenge, user, with_for_update=True)
        if pending is None or state.clock.now() >= as_utc(pending.expires_at):
            raise ApiError(
                409,
                "no_challenge",
                "start again: the registration has expired or was used",
                message_zh="添加已过期或已完成，请重新开始。",
            )
        challenge = pending.challenge
        await session.delete(pending)  # one challenge, one answer
        try:
            verified = checks.verify_registration(rp, credential, challenge)
        except checks.CheckFailed as exc:
            # The refusal is raised once this transaction has committed: its audit entry and
            # the spent challenge stay.
            refused = True
            await audit.record(
                session,
                actor=user,
                action="stepup.passkey_refused",
                subject=user,
                data={"why": str(exc)[:200]},
                clock=state.clock,
            )
        else:
            refused = False
            await _add_passkey(session, user, credential, verified, state)
    if refused:
        raise _refused("the passkey could not be verified", "通行密钥未能通过验证。")
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


@router.post("/security/totp")
async def totp_start(user: User, web_session: WebSession, state: State) -> JSONResponse:
    """A fresh secret, shown once; it replaces the old one only when a first code confirms it."""
    secret = checks.new_totp_secret()
    async with state.db.transaction() as session:
        await stepup.lock_person(session, user)
        row = await stepup.totp_of(session, user)
        if row is not None and row.confirmed_at is not None:
            raise ApiError(
                409, "totp_on", "one-time codes are already on for this account", message_zh="动态验证码已经开启。"
            )
        if (refusal := await _confirm_first(session, user, web_session, state)) is not None:
            return refusal
        if row is None:
            session.add(TotpSecret(user_id=user, secret=secret, created_at=state.clock.now(), last_step=0))
        else:
            row.secret, row.created_at = secret, state.clock.now()
    uri = checks.totp_uri(secret, user, state.settings.stepup.rp_name)
    return JSONResponse({"secret": secret, "uri": uri}, headers={"Cache-Control": "no-store"})


@router.post("/security/totp/confirm")
async def totp_confirm(user: User, state: State, code: Annotated[str, Body(embed=True, max_length=16)]) -> JSONResponse:
    async with state.db.transaction() as session:
        await stepup.lock_person(session, user)
        row = await stepup.totp_of(session, user)
        if row is None or row.confirmed_at is not None:
            raise ApiError(409, "no_setup", "start the set-up first", message_zh="请先开始设置。")
        try:
            row.last_step = checks.check_totp(row, code, state.clock.now())
        except checks.CheckFailed:
            raise _refused("the code is not right; try the newest one", "验证码不正确，请输入最新的一个。") from None
        row.confirmed_at = state.clock.now()
        await stepup.enrolled(session, user)
        await audit.record(session, actor=user, action="stepup.totp_add", subject=user, clock=state.clock)
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


# -- removing an authenticator ----------------------------------------------------------
async def _may_remove(
    session: AsyncSession, user: str, web_session: str, state: PushState, *, last: bool
) -> JSONResponse | None:
    """None if `user` may remove an authenticator now, else the answer: confirm with one first
    (a stolen session must not strip the owner's and enrol its own), or, for the last one while
    a binding decision waits for it, keep it (nothing else could confirm that decision)."""
    if (refusal := await _confirm_first(session, user, web_session, state, "移除验证方式")) is not None:
        return refusal
    if not last:
        return None
    waiting = await stepup.waiting_for(session, user, state.clock.now(), state.settings.stepup.max_failures)
    if not waiting:
        return None
    named = "、".join(f"{r.subject} {r.step}".strip() for r in waiting[:3])
    return JSONResponse(
        {
            "error": "confirmation_waiting",
            "message_zh": f"有待您确认的事项（{named}），这是您仅有的验证方式：请先完成确认、等它过期，"
            "或先添加另一种验证方式，再移除。",
            "message": f"A confirmation waits for you ({named}) and this is your only way to confirm it: "
            "confirm it or let it expire, or add another way first, then remove this one.",
        },
        status_code=409,
        headers={"Cache-Control": "no-store"},
    )


async def _factors_left(session: AsyncSession, user: str) -> int:
    totp = await session.get(TotpSecret, user)
    on = totp is not None and totp.confirmed_at is not None
    return len(await stepup.passkeys_of(session, user)) + int(on)


async def _remove(
    session: AsyncSession,
    user: str,
    web_session: str,
    row: PasskeyCredential | TotpSecret,
    action: str,
    state: PushState,
    data: dict[str, object] | None = None,
) -> JSONResponse:
    """Remove one of `user`'s authenticators if they may now (see _may_remove), audited."""
    last = await _factors_left(session, user) == 1
    if (refusal := await _may_remove(session, user, web_session, state, last=last)) is not None:
        return refusal
    await session.delete(row)
    await session.flush()
    await audit.record(session, actor=user, action=action, subject=user, data=data, clock=state.clock)
    left = await _factors_left(session, user)
    return JSONResponse({"ok": True, "left": left}, headers={"Cache-Control": "no-store"})


@router.delete("/security/passkey/{passkey_id}")
async def passkey_remove(
    passkey_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: User, web_session: WebSession, state: State
) -> JSONResponse:
    async with state.db.transaction() as session:
        # Two removals at once must not each count the other's authenticator as left.
        await stepup.lock_person(session, user)
        row = await session.get(PasskeyCredential, passkey_id, with_for_update=True)
        if row is None or row.user_id != user:
            raise ApiError(404, "not_found", "you have no such passkey", message_zh="没有找到这个通行密钥。")
        data: dict[str, object] = {"credential": row.credential_id}
        return await _remove(session, user, web_session, row, "stepup.passkey_remove", state, data)


@router.delete("/security/totp")
async def totp_remove(user: User, web_session: WebSession, state: State) -> JSONResponse:
    async with state.db.transaction() as session:
        await stepup.lock_person(session, user)
        row = await stepup.totp_of(session, user)
        if row is None or row.confirmed_at is None:
            raise ApiError(
                404, "totp_off", "one-time codes are not on for this account", message_zh="这个账号没有开启动态验证码。"
            )
        return await _remove(session, user, web_session, row, "stepup.totp_remove", state)


# -- /confirm/<token>: completing a binding decision ------------------------------------
async def _open_request(session: AsyncSession, token: str, user: str, state: PushState) -> StepUpRequest:
    """The request, locked, if `user` may still answer it; else the reason as an ApiError."""
    found = await stepup.find_request(session, token, for_update=True)
    if found is None:
        raise ApiError(404, "unknown", _CLOSED["unknown"][1], message_zh=_CLOSED["unknown"][0])
    if found.user_id != user:
        raise ApiError(403, "other", _CLOSED["other"][1], message_zh=_CLOSED["other"][0])
    reason = stepup.request_state(found, state.clock.now(), state.settings.stepup.max_failures)
    if reason != "open":
        raise ApiError(410, reason, _CLOSED[reason][1], message_zh=_CLOSED[reason][0])
    failures = await session.scalar(
        select(func.coalesce(func.sum(StepUpRequest.failures), 0)).where(
            StepUpRequest.user_id == user, StepUpRequest.created_at >= state.clock.now() - _FAILURE_WINDOW
        )
    )
    if (failures or 0) >= FAILURES_PER_PERSON:
        raise ApiError(
            429,
            "too_many_failures",
            "too many wrong answers in the last hour; try again later",
            message_zh="一小时内错误次数过多，请稍后再试。",
        )
    return found


def _refused(message: str, zh: str) -> ApiError:
    return ApiError(403, "refused", message, message_zh=zh)


async def _fail(session: AsyncSession, found: StepUpRequest, how: str, why: str, state: PushState) -> None:
    found.failures += 1
    await audit.record(
        session,
        actor=found.user_id,
        action="stepup.refused",
        subject=found.subject,
        data={"step": found.step, "how": how, "why": why[:200], "failures": found.failures},
        clock=state.clock,
    )


def _consequence(found: StepUpRequest) -> str:
    if found.kind == stepup.ENROL:
        return (
            f"<p>确认后 {stepup.ENROL_MINUTES} 分钟内可以添加或移除通行密钥、验证器应用。 "
            f'<span lang="en">Confirming lets you add or remove a passkey or an authenticator app '
            f"within {stepup.ENROL_MINUTES} minutes.</span></p>"
        )
    return (
        "<p>确认后即以您的名义同意，不可撤回。 "
        '<span lang="en">Confirming approves in your name; it cannot be undone.</span></p>'
    )


@router.get("/confirm/{token}", include_in_schema=False)
async def confirm_page(request: Request, token: str, state: State) -> Response:
    user = await optional_user(request)
    if user is None:
        return _note(_SIGN_IN, "signed_out", 401)
    async with state.db.reading() as session:
        found = await stepup.find_request(session, token)
        passkeys = await stepup.passkeys_of(session, user) if found is not None else []
        totp = await session.get(TotpSecret, user)
    if found is None:
        return _note(_CLOSED["unknown"], "unknown", 404)
    if found.user_id != user:
        return _note(_CLOSED["other"], "other", 403)
    reason = stepup.request_state(found, state.clock.now(), state.settings.stepup.max_failures)
    if reason != "open":
        return _note(_CLOSED[reason], reason, 410)
    has_totp = totp is not None and totp.confirmed_at is not None
    opinion = f"<p>意见 Opinion：{html.escape(found.opinion)}</p>" if found.opinion else ""
    step = html.escape(found.step)
    if passkeys:
        passkey_part = f'<button class="primary" id="use-passkey" type="button">用通行密钥确认{step} / Confirm with a passkey</button>'
    elif has_totp:
        passkey_part = '<p>还没有通行密钥。<a href="/security">去添加</a>。 <span lang="en">No passkey yet: <a href="/security">add one</a>.</span></p>'
    else:  # none at all (never added, or removed): adding the first needs only this session
        passkey_part = (
            '<p class="error" id="no-factor">您还没有任何验证方式，暂时无法确认。请先<a href="/security">添加一种</a>，'
            '再在链接有效期内回到本页。 <span lang="en">You have no way to confirm yet: <a href="/security">add one</a>, '
            "then come back to this page while the link is valid.</span></p>"
        )
    totp_part = (
        """<p>或输入验证器应用中的 6 位动态验证码： <span lang="en">Or the 6-digit code of your authenticator app:</span></p>
<input id="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6">
<button class="secondary" id="use-totp" type="button">用动态验证码确认 / Confirm with the code</button>"""
        if has_totp
        else ""
    )
    return _page(
        f"确认{found.step} Confirm",
        f"""<h1>确认{step}</h1>
<section id="confirm" data-token="{html.escape(token)}" data-state="open">
<p><b>{html.escape(found.subject)}</b> {html.escape(found.title)}</p>
<p>环节 Step：{step}</p>{opinion}
{_consequence(found)}
{passkey_part}
{totp_part}
</section>
<p id="status" role="status"></p>""",
        lang=found.lang,
    )


@router.post("/confirm/{token}/options")
async def confirm_options(token: str, user: User, state: State) -> Response:
    rp = checks.RelyingParty.from_settings(state.settings)
    async with state.db.transaction() as session:
        found = await _open_request(session, token, user, state)
        passkeys = await stepup.passkeys_of(session, user)
        if not passkeys:
            raise ApiError(
                409,
                "no_passkey",
                "no passkey is registered: add one on /security",
                message_zh="还没有通行密钥：请在 /security 添加。",
            )
        options, found.challenge = checks.authentication_options(rp, passkeys)
    return Response(options, media_type="application/json", headers={"Cache-Control": "no-store"})


async def _complete(
    session: AsyncSession, found: StepUpRequest, credential: str, request: Request, state: PushState
) -> Refusal | None:
    """Mark the request used and do what it asked; the reason it could not be done, or None.
    The request is used up either way: a decision that can no longer be made stays unmade."""
    found.used_at = state.clock.now()
    if found.kind == stepup.ENROL:
        why = None  # used_at is what opens registration (records.stepup.enrolment_open)
    else:
        completion: checks.Completion | None = getattr(request.app.state, "step_completion", None)
        if completion is None:
            raise ApiError(503, "not_configured", "this server cannot complete confirmations")
        why = await completion(session, found, credential, state.clock)
    await audit.record(
        session,
        actor=found.user_id,
        action="stepup.confirmed" if why is None else "stepup.void",
        subject=found.subject,
        data={"step": found.step, "credential": credential} | ({"why": why.in_lang(found.lang)} if why else {}),
        clock=state.clock,
    )
    return why


def _noted(session: AsyncSession, found: StepUpRequest, request: Request) -> str | None:
    """In the transaction: what a decision just made wrote, for the wake-up after the commit."""
    announce: checks.Announce | None = getattr(request.app.state, "step_announce", None)
    return announce.noted(session) if announce is not None else ""


async def _announce(
    found: StepUpRequest, failed: bool, why: Refusal | None, noted: str | None, request: Request
) -> None:
    """After the commit of a decision (a 签发, an incident declared or closed): open boards read
    again now, here and on the other copies, and the bot's relay sends the card edits, rather
    than at the minute's refresh. A confirmed enrolment changes no board."""
    if failed or why is not None or found.kind == stepup.ENROL:
        return
    announce: checks.Announce | None = getattr(request.app.state, "step_announce", None)
    change = await announce.publish(noted) if announce is not None else EVERYTHING
    hub: BoardHub | None = getattr(request.app.state, "board", None)
    if hub is not None:
        hub.changed(change)


def _answer(found: StepUpRequest, failed: bool, why: Refusal | None) -> JSONResponse:
    if failed:
        raise _refused("the answer was not accepted; nothing was decided", "验证未通过，没有作出任何决定。")
    if why is not None:
        raise ApiError(409, "void", why.en, message_zh=why.zh)
    # After confirming an enrolment the page goes back to where the person was adding one.
    next_page = "/security" if found.kind == stepup.ENROL else None
    return JSONResponse(
        {"ok": True, "subject": found.subject, "step": found.step, "next": next_page},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/confirm/{token}/passkey")
async def confirm_with_passkey(
    request: Request, token: str, user: User, state: State, credential: Annotated[dict[str, object], Body(embed=True)]
) -> JSONResponse:
    rp = checks.RelyingParty.from_settings(state.settings)
    failed, why, noted = True, None, None
    async with state.db.transaction() as session:
        found = await _open_request(session, token, user, state)
        challenge, found.challenge = found.challenge, None  # answered at most once
        credential_id = credential.get("id") if isinstance(credential.get("id"), str) else ""
        row = await session.scalar(
            select(PasskeyCredential)
            .where(PasskeyCredential.credential_id == credential_id, PasskeyCredential.user_id == user)
            .with_for_update()
        )
        try:
            if challenge is None:
                raise checks.CheckFailed("no challenge handed out (a replay?)")
            if row is None:
                raise checks.CheckFailed("not a passkey of this person")
            row.sign_count = checks.verify_assertion(rp, credential, challenge, row)
        except checks.CheckFailed as exc:
            await _fail(session, found, "passkey", str(exc), state)
        else:
            failed = False
            row.last_used_at = state.clock.now()
            why = await _complete(session, found, row.credential_id, request, state)
            await session.flush()  # so that what it wrote is noted
            noted = _noted(session, found, request)
    await _announce(found, failed, why, noted, request)
    return _answer(found, failed, why)


@router.post("/confirm/{token}/totp")
async def confirm_with_totp(
    request: Request, token: str, user: User, state: State, code: Annotated[str, Body(embed=True, max_length=16)]
) -> JSONResponse:
    failed, why, noted = True, None, None
    async with state.db.transaction() as session:
        found = await _open_request(session, token, user, state)
        row = await stepup.totp_of(session, user)
        try:
            if row is None or row.confirmed_at is None:
                raise checks.CheckFailed("one-time codes are not set up")
            row.last_step = checks.check_totp(row, code, state.clock.now())
        except checks.CheckFailed as exc:
            await _fail(session, found, stepup.TOTP, str(exc), state)
        else:
            failed = False
            why = await _complete(session, found, stepup.TOTP, request, state)
            await session.flush()  # so that what it wrote is noted
            noted = _noted(session, found, request)
    await _announce(found, failed, why, noted, request)
    return _answer(found, failed, why)
