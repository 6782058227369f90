"""The FastAPI application: health, readiness and metrics; the push API mounts here too.

The server is stateless: any number of copies can run behind a load balancer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from records.clock import SystemClock
from records.db import Database
from server import errors, gateway_routes, push_api, pwa, signin_routes
from server.limits import BodySizeLimit
from server.state import PushState
from zhiban.settings import Settings

GATEWAY_PATH = "/_matrix/push/"


def create_app(settings: Settings, *, extra: dict[str, Any] | None = None) -> FastAPI:
    """The whole server. `extra` sets app.state values; tests pass `clock` and `push_sender_factory`."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings.database_url)
        app.state.push = PushState.create(settings, app.state.db, getattr(app.state, "clock", None) or SystemClock())
        app.state.push.sender_factory = getattr(app.state, "push_sender_factory", None)
        yield
        await app.state.push.close()
        await app.state.db.dispose()

    app = FastAPI(title="Zhiban", lifespan=lifespan, docs_url="/api/docs", openapi_url="/api/openapi.json")
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
    app.include_router(push_api.router)
    app.include_router(signin_routes.router)
    app.include_router(gateway_routes.router)
    app.include_router(pwa.router)
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

    @app.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
