"""The push API for the signed-in browser: VAPID key, subscriptions, recent notices, a test push."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from notifications import subscriptions
from notifications.notice import Kind, NoticeSpec
from notifications.service import notify
from notifications.texts import TEXTS, text
from notifications.webpush import Subscription
from notifications.webpush.errors import EndpointNotAllowed, InvalidSubscriptionKeys
from records import audit
from records.models import Person
from server.errors import ApiError
from server.session import current_user
from server.state import PushState, push_state

router = APIRouter(prefix="/api/push", tags=["push"])
User = Annotated[str, Depends(current_user)]


class _Keys(BaseModel):
    model_config = ConfigDict(extra="ignore")
    p256dh: str = Field(max_length=256)
    auth: str = Field(max_length=256)


class SubscriptionIn(BaseModel):
    """`PushSubscription.toJSON()` as the browser gives it."""

    model_config = ConfigDict(extra="ignore")
    endpoint: str = Field(max_length=2048)
    keys: _Keys


async def json_body(request: Request) -> Any:
    """The body as JSON, refusing other content types (this also stops cross-site form posts)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "the request body is not valid JSON") from None
    except RecursionError:
        raise ApiError(400, "too_deep", "the request body is nested too deeply") from None


def _subscription_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "endpoint": row.endpoint,
        "user_agent": row.user_agent,
        "created_at": row.created_at.isoformat(),
        "last_ok_at": row.last_ok_at.isoformat() if row.last_ok_at else None,
    }


async def _lang(session: AsyncSession, user: str, default: str) -> str:
    person = await session.get(Person, user)
    return (person.lang if person else None) or default


@router.get("/vapid-public-key")
async def vapid_public_key(state: Annotated[PushState, Depends(push_state)]) -> dict[str, str]:
    """The application server key browsers need for `pushManager.subscribe()`."""
    return {"publicKey": state.public_key()}


@router.get("/me")
async def me(request: Request, user: User, state: Annotated[PushState, Depends(push_state)]) -> dict[str, str]:
    async with state.db.transaction() as session:
        return {"user_id": user, "lang": await _lang(session, user, state.settings.default_lang)}


@router.get("/subscriptions")
async def list_subscriptions(user: User, state: Annotated[PushState, Depends(push_state)]) -> dict[str, Any]:
    async with state.db.transaction() as session:
        rows = await subscriptions.list_for(session, user)
        return {"subscriptions": [_subscription_json(r) for r in rows]}


@router.post("/subscriptions", status_code=201)
async def create_subscription(
    request: Request, response: Response, user: User, state: Annotated[PushState, Depends(push_state)]
) -> dict[str, Any]:
    body = await json_body(request)
    try:
        parsed = SubscriptionIn.model_validate(body)
    except ValidationError as exc:
        where = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()[:5])
        raise ApiError(422, "invalid", f"not a PushSubscription (check: {where})") from None
    sub = Subscription(parsed.endpoint, parsed.keys.p256dh, parsed.keys.auth)
    async with state.db.transaction() as session:
        try:
            row, created = await subscriptions.subscribe(
                session,
                user,
                sub,
                allowlist=state.allowlist,
                clock=state.clock,
                user_agent=request.headers.get("user-agent"),
            )
        except EndpointNotAllowed as exc:
            raise ApiError(400, "endpoint_not_allowed", str(exc)) from None
        except InvalidSubscriptionKeys as exc:
            raise ApiError(400, "invalid_keys", str(exc)) from None
        except subscriptions.EndpointTaken as exc:
            raise ApiError(409, "endpoint_taken", str(exc)) from None
        if created:
            await audit.record(
                session, actor=user, action="push.subscribe", subject=user, data={"id": row.id}, clock=state.clock
            )
        else:
            response.status_code = 200
        return _subscription_json(row)


# The largest id a BIGINT column holds: a larger number names nothing (404, not a database overflow).
MAX_ID = 2**63 - 1


@router.delete("/subscriptions/{subscription_id}", status_code=204)
async def delete_subscription(
    subscription_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: User, state: Annotated[PushState, Depends(push_state)]
) -> Response:
    async with state.db.transaction() as session:
        if not await subscriptions.unsubscribe(session, user, subscription_id):
            raise ApiError(404, "not_found", f"you have no subscription {subscription_id}")
        await audit.record(
            session,
            actor=user,
            action="push.unsubscribe",
            subject=user,
            data={"id": subscription_id},
            clock=state.clock,
        )
    return Response(status_code=204)


@router.get("/notices")
async def recent(
    user: User,
    state: Annotated[PushState, Depends(push_state)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    async with state.db.transaction() as session:
        lang = await _lang(session, user, state.settings.default_lang)
        items = await subscriptions.recent_notices(session, user, lang, limit=limit)
    return {
        "notices": [
            {
                "id": n.id,
                "kind": n.kind,
                "title": n.title,
                "body": n.body,
                "url": n.url,
                "created_at": n.created_at.isoformat(),
                "status": n.status,
            }
            for n in items
        ]
    }


@router.post("/test", status_code=202)
async def test_push(user: User, state: Annotated[PushState, Depends(push_state)]) -> dict[str, Any]:
    """Send a test notice to the caller's own devices (the worker delivers it); 409 when the
    caller has none."""
    spec = NoticeSpec(
        kind=Kind.TEST,
        title=TEXTS["push.test.title"],
        body=TEXTS["push.test.body"],
        topic="zhiban-test",
        dm="never",
    )
    async with state.db.transaction() as session:
        if not await subscriptions.list_for(session, user):
            # "Sent" would be untrue: nothing can receive it. Say so, and what turns push on.
            lang = await _lang(session, user, state.settings.default_lang)
            raise ApiError(409, "no_device", text("push.test.no_device", lang))
        result = await notify(session, [user], spec, clock=state.clock, settings=state.settings)
    return {"notice_id": result.notice_id, "queued": result.queued, "skipped_quiet": result.skipped_quiet}
