"""The small push page: an installable PWA with a service worker, served from /push/."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
router = APIRouter(tags=["page"])

# The page only talks to its own origin; no inline script, no framing.
_SECURITY = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


@router.get("/push", include_in_schema=False)
async def page_redirect() -> Response:
    return RedirectResponse("/push/", status_code=308)


@router.get("/push/", include_in_schema=False)
async def page() -> Response:
    return FileResponse(
        STATIC / "index.html", media_type="text/html", headers={**_SECURITY, "Cache-Control": "no-cache"}
    )


@router.get("/push/sw.js", include_in_schema=False)
async def service_worker() -> Response:
    # Served from /push/ so that its scope is /push/; never cached, so updates reach phones.
    return FileResponse(
        STATIC / "sw.js", media_type="text/javascript", headers={**_SECURITY, "Cache-Control": "no-cache"}
    )


@router.get("/push/manifest.webmanifest", include_in_schema=False)
async def manifest() -> Response:
    return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")
