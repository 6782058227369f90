"""The FastAPI application: health, readiness and metrics; the push API mounts here too.

The server keeps no state of its own that matters: sessions live in the database, so any
number of copies can run behind a load balancer (each copy counts its own rate limits).
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from records.clock import SystemClock
from records.config import Settings
from records.db import Database
from server import board, errors, gateway_routes, push_api, pwa, signin_routes, widget_auth
from server.board import BoardHub
from server.limits import BodySizeLimit
from server.origin import SameOriginWrites
from server.ratelimit import PerAddressLimit
from server.state import PushState
from server.stepup_routes import router as stepup_router

GATEWAY_PATH = "/_matrix/push/"


def create_app(settings: Settings, *, extra: dict[str, Any] | None = None) -> FastAPI:
    """The whole server. `extra` sets app.state values; tests pass `clock` and `push_sender_factory`,
    the application passes `board_source` (a server.board.BoardSource) to turn the board on."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings.database_url, pool=settings.database)
        app.state.push = PushState.create(settings, app.state.db, getattr(app.state, "clock", None) or SystemClock())
        app.state.push.sender_factory = getattr(app.state, "push_sender_factory", None)
        # The board needs the features' data, which the application hands in (zhiban.board_wiring).
        source = getattr(app.state, "board_source", None)
        app.state.board = BoardHub(source) if source is not None else None
        if app.state.board is not None:
            app.state.board.start()
        yield
        if app.state.board is not None:
            await app.state.board.stop()
        await app.state.push.close()
        await app.state.db.dispose()

    # The API description and its page are for development: off unless the config asks.
    docs = settings.server.api_docs
    app = FastAPI(
        title="Zhiban",
        lifespan=lifespan,
        docs_url="/api/docs" if docs else None,
        redoc_url=None,
        openapi_url="/api/openapi.json" if docs else None,
    )
    app.state.settings = settings
    for key, value in (extra or {}).items():
        setattr(app.state, key, value)

    errors.install(app)
    server_settings = settings.server
    app.add_middleware(
        BodySizeLimit,
        limit_for=lambda path: (
            server_settings.gateway_max_body_bytes if path.startswith(GATEWAY_PATH) else server_settings.max_body_bytes
        ),
    )
    # Added last runs first: a flood is turned away before anything else, then cross-site writes.
    app.add_middleware(SameOriginWrites, public_url=server_settings.public_url)
    app.add_middleware(PerAddressLimit)
    app.include_router(push_api.router)
    app.include_router(signin_routes.router)
    app.include_router(gateway_routes.router)
    app.include_router(pwa.router)
    app.include_router(stepup_router)
    app.include_router(board.router)
    app.include_router(widget_auth.router)
    app.mount("/push/static", pwa.static_files(), name="push-static")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        """The process can serve: the database answers."""
        try:
            async with app.state.db.transaction() as session:
                await session.execute(text("SELECT 1"))
        except Exception as exc:
            return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus figures, for a scraper that presents `server.metrics_token`; off without one."""
        token = server_settings.metrics_token
        if not token:
            return errors.error_response(404, "not_found", "metrics are off (set server.metrics_token)")
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return errors.error_response(
                401, "unauthorized", "send Authorization: Bearer <server.metrics_token>", {"WWW-Authenticate": "Bearer"}
            )
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
