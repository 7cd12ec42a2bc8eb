"""One mapping from errors to HTTP problems: `{"error": {"code", "message", "field"}}`."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vectra.errors import VectraError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _field(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VectraError)
    async def _vectra_error(_request: Request, exc: VectraError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if retry_after := exc.details.get("retry_after"):
            headers = {**(headers or {}), "Retry-After": str(int(retry_after))}
        return JSONResponse(exc.to_problem(), status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field(err.get("loc", ())),
                "message": err.get("msg", "invalid"),
                "type": err.get("type"),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": None, "message": "Invalid input."}
        body = {
            "error": {
                "code": "invalid",
                "message": f"{first['field']}: {first['message']}"
                if first["field"]
                else first["message"],
                "field": first["field"],
                "errors": errors,
            }
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            {"error": {"code": code, "message": str(exc.detail), "field": None}},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return JSONResponse(
            {
                "error": {
                    "code": "internal",
                    "message": "Something went wrong on our side; it has been logged.",
                    "field": None,
                }
            },
            status_code=500,
        )
