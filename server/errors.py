"""Errors as JSON with a plain message, so a bad request always says what was wrong."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    """Raise from a route: becomes `{"error": code, "message": message}` with `status`, and
    `"message_zh"` too when given (a refusal a person reads on a page, in both languages)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        message_zh: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.message_zh = status, code, message, message_zh
        self.headers: dict[str, str] = headers or {}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, *, message_zh: str | None = None
) -> JSONResponse:
    body = {"error": code, "message": message} | ({"message_zh": message_zh} if message_zh else {})
    return JSONResponse(body, status_code=status, headers=headers)


def _describe(errors: list[Any]) -> tuple[int, str, str]:
    for err in errors:
        if err.get("type") == "json_invalid":
            return 400, "bad_json", "the request body is not valid JSON"
    if errors and all(tuple(err.get("loc", ()))[:1] == ("path",) for err in errors):
        # An id that cannot exist (not a number, or beyond what the database holds) names nothing.
        return 404, "not_found", "there is nothing at this address"
    parts = []
    for err in errors[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return 422, "invalid", "; ".join(parts) or "the request is not valid"


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers or None, message_zh=exc.message_zh)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _describe(list(exc.errors()))
        return error_response(status, code, message)

    @app.exception_handler(RecursionError)
    async def too_deep(_: Request, exc: RecursionError) -> JSONResponse:
        # Deeply nested JSON exhausts the parser's recursion; it is the client's mistake, not ours.
        return error_response(400, "too_deep", "the request body is nested too deeply")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=getattr(exc, "headers", None))
