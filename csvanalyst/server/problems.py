"""Errors as RFC 9457 problem JSON, with the same stable codes as the CLI's error tree.

`type` is a URN built from the code, `title` the message, `detail` the hint; `code` (and `rule` for a
policy rejection) are extension members scripts can branch on.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from csvanalyst.errors import CsvAnalystError, http_status_for

log = logging.getLogger("csvanalyst.server")

MEDIA_TYPE = "application/problem+json"


def http_status(code: str) -> int:
    return http_status_for(code)


class HttpProblem(CsvAnalystError):
    """A problem that only exists over HTTP (auth, size, admission); it still carries a stable code."""

    def __init__(self, code: str, message: str, *, hint: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message, hint=hint, code=code)
        self.headers = headers or {}


def problem(status: int, code: str, title: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    from csvanalyst.server.public import public_text

    title, detail = public_text(title), public_text(detail)
    body = {"type": f"urn:csvanalyst:error:{code}", "title": title, "status": status, "detail": detail, "code": code}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def from_error(exc: CsvAnalystError, request: Request | None = None) -> JSONResponse:
    status = http_status(exc.code)
    extra = {"rule": getattr(exc, "rule", None), "run_id": getattr(exc, "run_id", None)}
    if request is not None:
        extra["instance"] = request.url.path
    body = problem(status, exc.code, exc.message, exc.hint, **extra)
    return response(status, body, getattr(exc, "headers", None))


async def on_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CsvAnalystError)
    return from_error(exc, request)


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "usage", 401: "unauthorized", 413: "too_large"}.get(exc.status_code, "usage")
    body = problem(exc.status_code, code, str(exc.detail), instance=request.url.path)
    return response(exc.status_code, body, dict(exc.headers or {}))


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    """A malformed body or parameter: 422 naming each field, like the CLI names a bad flag."""
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": ".".join(str(p) for p in e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
    where = "; ".join(f"{e['loc']}: {e['msg']}" for e in errors)
    body = problem(422, "usage", f"Invalid request: {where}.", "See the OpenAPI schema at /docs.", errors=errors)
    return response(422, body)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback, answered without one."""
    log.exception("internal error", extra={"path": request.url.path})
    body = problem(500, "internal", "Internal error.", "This is a bug; the server log has the details.")
    return response(500, body)
