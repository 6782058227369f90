"""The phone pages: the push page (/push/) and the board (/board/), each an installable PWA
whose service worker (the same sw.js) is served from its own folder, so that its scope is that page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
router = APIRouter(tags=["page"])


def security_headers(frame_ancestors: str = "'none'") -> dict[str, str]:
    """The page only talks to its own origin and runs no inline script. Framing is refused,
    except for the board's widget page (server.widget_auth), which names who may frame it."""
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors {frame_ancestors}"
        ),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
    }


_SECURITY = security_headers()


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC)


def _fresh(name: str, media_type: str) -> Response:
    """A page or its worker, never cached, so that updates reach phones."""
    return FileResponse(STATIC / name, media_type=media_type, headers={**_SECURITY, "Cache-Control": "no-cache"})


@router.get("/push", include_in_schema=False)
async def page_redirect() -> Response:
    return RedirectResponse("/push/", status_code=308)


@router.get("/push/", include_in_schema=False)
async def page() -> Response:
    return _fresh("index.html", "text/html")


@router.get("/push/sw.js", include_in_schema=False)
async def service_worker() -> Response:
    # Served from /push/ so that its scope is /push/.
    return _fresh("sw.js", "text/javascript")


@router.get("/push/manifest.webmanifest", include_in_schema=False)
async def manifest() -> Response:
    return FileResponse(STATIC / "manifest.webmanifest", media_type="application/manifest+json")


@router.get("/board", include_in_schema=False)
async def board_redirect() -> Response:
    return RedirectResponse("/board/", status_code=308)


@router.get("/board/", include_in_schema=False)
async def board_page() -> Response:
    return _fresh("board.html", "text/html")


@router.get("/board/sw.js", include_in_schema=False)
async def board_service_worker() -> Response:
    # The same worker as the push page's; under /board/ it also keeps the last board for offline reading.
    return _fresh("sw.js", "text/javascript")
