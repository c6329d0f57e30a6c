"""The ASGI layer every request passes: request id, bearer auth, body size, one JSON log line, metrics.

Written as plain ASGI (not a BaseHTTPMiddleware) so streamed responses and client disconnects pass
through untouched.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from csvanalyst.observability.logs import request_id_var
from csvanalyst.observability.metrics import Metrics
from csvanalyst.server import auth
from csvanalyst.server.limits import ServerLimits
from csvanalyst.server.origin import OriginPolicy
from csvanalyst.server.problems import MEDIA_TYPE, HttpProblem, problem

log = logging.getLogger("csvanalyst.server.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UPLOAD_PATHS = {"/datasets"}
PROBE_PATHS = {"/healthz", "/readyz"}  # orchestrators probe by pod address; the answers hold no data


class Gateway:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        limits: ServerLimits,
        metrics: Metrics,
        origins: OriginPolicy | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.origins = origins or OriginPolicy(token_required=bool(token))
        self.limits = limits
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = _request_id(headers.get("x-request-id"))
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                self._observe(scope, message["status"], time.perf_counter() - started)
            await send(message)

        try:
            refusal = self._refusal(scope, headers)
            if refusal is not None:
                await _send_problem(send_with_id, refusal)
                return
            await self._call_limited(scope, receive, send_with_id)
        finally:
            _log_request(scope, status["code"], started, request_id)
            request_id_var.reset(token)

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Cut the body off at the limit even without a Content-Length: the app sees a disconnect,
        whatever it answers is dropped, and the client gets a 413."""
        limit = self._body_limit(scope)
        body = _BodyCounter(receive, limit)
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if body.overflow:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, body.receive, guarded_send)
        except Exception:
            if not body.overflow:
                raise
        if body.overflow and not started:
            await _send_problem(send, _too_large(limit))

    def _body_limit(self, scope: Scope) -> int:
        if scope["method"] == "POST" and scope["path"] in UPLOAD_PATHS:
            return self.limits.max_upload_bytes
        return self.limits.max_body_bytes

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> HttpProblem | None:
        browser = self._browser_refusal(scope, headers)
        if browser is not None:
            return browser
        if not auth.is_public(scope["path"]) and not auth.authorized(headers.get("authorization"), self.token):
            return HttpProblem(
                "unauthorized",
                "This server needs a bearer token.",
                hint="Send `Authorization: Bearer <token>` (the token given to `csvanalyst serve`).",
                headers={"WWW-Authenticate": "Bearer"},
            )
        declared = headers.get("content-length", "")
        limit = self._body_limit(scope)
        if declared.isdigit() and int(declared) > limit:
            return _too_large(limit)
        return None

    def _browser_refusal(self, scope: Scope, headers: dict[str, str]) -> HttpProblem | None:
        """DNS rebinding and cross-site requests (origin.py); probes and the page's own files are exempt."""
        path, method = scope["path"], scope["method"]
        if path not in PROBE_PATHS and not self.origins.host_allowed(headers.get("host")):
            return HttpProblem(
                "bad_host",
                f"This server does not answer to the host name {headers.get('host', '(none)')!r}.",
                hint="Use http://127.0.0.1 or http://localhost, or start the server with --allowed-host NAME.",
            )
        if auth.is_public(path) and method in ("GET", "HEAD"):
            return None
        reason = self.origins.refusal(method, headers)
        if reason is None:
            return None
        return HttpProblem(
            "cross_site",
            f"Refused: {reason}; only this server's own page may call it from a browser.",
            hint="Open the page this server serves at /, or start it with --cors-origin ORIGIN to allow another.",
        )

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = _route_label(scope)
        self.metrics.http_requests.labels(scope["method"], route, str(status)).inc()
        self.metrics.http_latency.labels(scope["method"], route).observe(seconds)


def _request_id(given: str | None) -> str:
    """The caller's id when it is a sane token (so traces join up), else a fresh one."""
    if given and _REQUEST_ID.match(given):
        return given
    return uuid.uuid4().hex


def _route_label(scope: Scope) -> str:
    """The route template (`/runs/{run_id}`), never the raw path, so label cardinality stays bounded."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if path:
        return str(path)
    return "/static" if scope["path"].startswith("/static/") else "unmatched"


def _too_large(limit: int) -> HttpProblem:
    return HttpProblem(
        "too_large",
        f"The request body is larger than this server accepts ({limit:,} bytes).",
        hint="Send a smaller file, or start the server with a higher --max-upload-mb.",
    )


class _BodyCounter:
    """Counts request body bytes as they arrive; past the limit it reports a disconnect to the app."""

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.seen = 0
        self.overflow = False

    async def receive(self) -> Message:
        if self.overflow:
            return {"type": "http.disconnect"}
        message = await self._receive()
        if message["type"] == "http.request":
            self.seen += len(message.get("body", b""))
            if self.seen > self.limit:
                self.overflow = True
                return {"type": "http.disconnect"}
        return message


async def _send_problem(send: Send, exc: HttpProblem) -> None:
    from csvanalyst.server.problems import http_status

    status = http_status(exc.code)
    body = json.dumps(problem(status, exc.code, exc.message, exc.hint)).encode()
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in exc.headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    extra: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        "client": (scope.get("client") or ("", 0))[0],
        "request_id": request_id,
    }
    log.info("request", extra=extra)
