"""The one place that turns errors into HTTP responses.

Every error leaves as ``{"error": {"code", "message", "where"}}``: the safe
public message of a ``ClaimbridgeError``, the location of a validation
failure, or a generic message for anything unexpected. A stack trace never
reaches a caller; unexpected errors are logged with their request id.
"""

from __future__ import annotations

import logging
import traceback
from typing import cast

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from claimbridge import errors

log = logging.getLogger("claimbridge.api")

STATUS_OF: dict[type[errors.ClaimbridgeError], int] = {
    errors.InputError: 400,
    errors.PayloadTooLarge: 413,
    errors.Unauthenticated: 401,
    errors.AccessDenied: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.StorageError: 503,
    errors.ConfigError: 500,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def error_body(code: str, message: str, where: str | None = None) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "where": where}}


def status_for(exc: errors.ClaimbridgeError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 500


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.ClaimbridgeError, _claimbridge_error)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _claimbridge_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(errors.ClaimbridgeError, exc)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s: %s (%s)", request.method, _route(request), exc.code, exc.detail)
    return JSONResponse(error_body(exc.code, exc.message, exc.where), status_code=status)


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    # The database (and with it the audit log) is unavailable: fail closed.
    # Nothing of the request's data is in the answer or the log line.
    log.error(
        "database unavailable on %s %s: %s",
        request.method,
        _route(request),
        type(getattr(exc, "orig", exc)).__name__,
    )
    error = errors.StorageError()
    return JSONResponse(error_body(error.code, error.message), status_code=503)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(RequestValidationError, exc)
    problems = exc.errors()
    first = problems[0] if problems else {}
    where = ".".join(str(part) for part in first.get("loc", ())) or None
    # pydantic's message names the rule broken, never the value sent, so
    # nothing a caller posted (possibly PHI) is echoed back.
    message = str(first.get("msg", "The request is not valid."))
    return JSONResponse(error_body("validation_failed", message, where), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    exc = cast(StarletteHTTPException, exc)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "The request failed."
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    # Not the message nor a traceback: a database error's message carries
    # the statement's parameters. The type, the route and where it was
    # raised are enough to find the bug again.
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
    log.error(
        "unexpected %s on %s %s at %s", type(exc).__name__, request.method, _route(request), where
    )
    return JSONResponse(
        error_body("internal_error", "The request could not be completed."), status_code=500
    )


def _route(request: Request) -> str:
    """The route template (``/api/v1/patients/{id}``), never the path as sent.

    A path as sent is caller-controlled text and may carry PHI; the
    template never does.
    """
    route = request.scope.get("route")
    return str(getattr(route, "path", "<no route>"))
