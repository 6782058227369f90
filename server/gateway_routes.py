"""`POST /_matrix/push/v1/notify`: the Matrix Push Gateway API, answered like Sygnal."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter

from notifications import gateway
from server.state import PushState, push_state

router = APIRouter(tags=["matrix push gateway"])

GATEWAY_PUSHES = Counter("zhiban_gateway_pushes", "Pushes sent for the Matrix push gateway, by outcome", ["outcome"])
GATEWAY_REQUESTS = Counter("zhiban_gateway_requests", "Push gateway notifications received")


@router.post("/_matrix/push/v1/notify")
async def notify(request: Request, state: Annotated[PushState, Depends(push_state)]) -> JSONResponse:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return JSONResponse({"error": "bad_json", "message": "the request body is not valid JSON"}, status_code=400)
    except RecursionError:
        return JSONResponse({"error": "too_deep", "message": "the request body is nested too deeply"}, status_code=400)
    try:
        notification, devices = gateway.parse(body)
    except gateway.GatewayError as exc:
        return JSONResponse({"error": "invalid", "message": str(exc)}, status_code=400)
    GATEWAY_REQUESTS.inc()
    sender = await state.sender()
    push = state.settings.push
    rejected, counts = await gateway.relay(
        notification,
        devices,
        sender,
        state.allowlist,
        app_ids=push.gateway_app_ids,
        max_devices=push.gateway_max_devices,
    )
    for outcome, count in counts.items():
        GATEWAY_PUSHES.labels(outcome).inc(count)
    return JSONResponse({"rejected": rejected})
