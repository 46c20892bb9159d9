"""One error shape for every HTTP error: ``{"error": {"code", "message", "fix"}}``.

:class:`ApiError` is raised by the routers; :func:`install` registers the handlers that turn
it, FastAPI's request validation errors, Starlette's HTTP errors (404, 405), leadsla's own
errors and anything unexpected into that shape (the last one without internals).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadsla.errors import ConfigError, LeadslaError

__all__ = ["ApiError", "error_body", "install"]

log = logging.getLogger("leadsla.service")


class ApiError(Exception):
    """An HTTP error with its status, a stable code, a message and the fix."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fix: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fix = fix
        self.headers = headers
        keep = {k: v for k, v in (extra or {}).items() if k not in ("code", "message", "fix")}
        self.extra = keep


def error_body(code: str, message: str, fix: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fix": fix, **extra}}


def _response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


_HTTP = {
    404: ("not_found", "Check the path; the API is described at /docs."),
    405: ("method_not_allowed", "Check the method; the API is described at /docs."),
}


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        body = error_body(exc.code, exc.message, exc.fix, **exc.extra)
        return _response(exc.status, body, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", ()) if x not in ("query", "path", "body"))
        msg = f"{where or 'the request'}: {first.get('msg', 'is not valid')}."
        return _response(
            422,
            error_body(
                "invalid_parameter",
                msg,
                "Check the parameter against the API description at /docs.",
                field=where or None,
                value=first.get("input"),
            ),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, fix = _HTTP.get(exc.status_code, ("http_error", "See the API description at /docs."))
        return _response(
            exc.status_code, error_body(code, str(exc.detail), fix), getattr(exc, "headers", None)
        )

    @app.exception_handler(ConfigError)
    async def _config(_req: Request, exc: ConfigError) -> JSONResponse:
        return _response(
            422,
            error_body(
                "invalid_policy" if "polic" in str(exc).lower() else "invalid_config",
                str(exc),
                "Correct the keys listed and send it again.",
            ),
        )

    @app.exception_handler(LeadslaError)
    async def _leadsla(_req: Request, exc: LeadslaError) -> JSONResponse:
        return _response(
            422, error_body("invalid_request", str(exc), "Correct what the message names.")
        )

    @app.exception_handler(Exception)
    async def _unexpected(_req: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=exc)
        return _response(
            500,
            error_body(
                "internal_error",
                "the service failed to handle the request; nothing of it was stored.",
                "Retry (events are idempotent by id); if it persists, see the server log.",
            ),
        )
