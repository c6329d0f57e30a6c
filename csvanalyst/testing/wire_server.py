"""A real HTTP server on loopback that speaks the OpenAI and Anthropic wire formats from a script.

It lets the real SDKs (and so our adapters, retries and streaming code) run end to end without a
paid API. Each request consumes the next scripted `Reply`; every request is recorded.

    from csvanalyst.testing.wire_server import WireServer, Reply, ScriptedCall

    script = [
        Reply(status=429, retry_after=0),                             # rate limited once
        Reply(tool_calls=[ScriptedCall("run_sql", {"sql": "SELECT 1"})]),
        Reply(tool_calls=[ScriptedCall("run_sql", '{"sql": "SELECT 1"')]),  # malformed arguments
        Reply(text="The answer is 1.", input_tokens=120, output_tokens=8),
    ]
    with WireServer(script) as server:
        openai.OpenAI(base_url=server.openai_url, api_key="test")     # POST /v1/chat/completions
        anthropic.Anthropic(base_url=server.url, api_key="test")      # POST /v1/messages
        ...
        server.requests[0].body["messages"]                           # what the client sent

`metadata={"/v1/models": {...}, "/props": {...}, "/api/show": {...}}` also serves those JSON bodies (to GET
and POST), the way local servers describe their models and context window (vLLM's `max_model_len` in
/v1/models, llama.cpp's `/props`, Ollama's `/api/show`); any other path answers 404. Such requests are
recorded in `server.metadata_requests`, apart from the model requests.

Both endpoints answer non-streaming (JSON) and streaming (`"stream": true`, SSE in each provider's
event format) requests. `repeat=Reply(...)` answers every request after the script runs out (e.g. a
model that never stops calling tools); without it an exhausted script answers 400. A request that
the real API would reject (unknown tool_call_id, roles not alternating, ...) also answers 400.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType
from typing import Any

from csvanalyst.testing import wire_anthropic, wire_openai
from csvanalyst.testing.loopback import LoopbackServer
from csvanalyst.testing.wire_script import Reply, ScriptedCall

__all__ = ["RecordedRequest", "Reply", "ScriptedCall", "WireServer"]

ROUTES: dict[str, tuple[str, ModuleType]] = {
    "/v1/chat/completions": ("openai", wire_openai),
    "/chat/completions": ("openai", wire_openai),
    "/v1/messages": ("anthropic", wire_anthropic),
}


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    provider: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]
    raw: str

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (timeout tests) is expected; anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class WireServer(LoopbackServer):
    """Scripted fake provider; a context manager that serves on an ephemeral loopback port."""

    thread_name = "wire-server"

    def __init__(
        self,
        script: Iterable[Reply] = (),
        *,
        repeat: Reply | None = None,
        host: str = "127.0.0.1",
        metadata: Mapping[str, dict[str, Any]] | None = None,
    ) -> None:
        self._script: deque[Reply] = deque(script)
        self.repeat = repeat
        self.metadata = dict(metadata or {})
        self.requests: list[RecordedRequest] = []
        self.metadata_requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, 0), _Handler)
        self._httpd.wire = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else host
        return f"http://{host_text}:{port}"

    @property
    def openai_url(self) -> str:
        """The base URL an OpenAI client wants (it appends /chat/completions)."""
        return f"{self.url}/v1"

    def add(self, *replies: Reply) -> None:
        with self._lock:
            self._script.extend(replies)

    @property
    def remaining(self) -> int:
        return len(self._script)

    def next_reply(self, record: RecordedRequest) -> tuple[int, Reply | None]:
        """Record the request and pick its reply; returns (request number, reply or None if exhausted)."""
        with self._lock:
            self.requests.append(record)
            number = len(self.requests)
            if self._script:
                return number, self._script.popleft()
            return number, self.repeat


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs' connection pools expect
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid the 40 ms stall

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `server.requests`, not stderr."""

    def do_GET(self) -> None:
        self._serve_metadata("")

    def _serve_metadata(self, raw: str) -> None:
        wire: WireServer = self.server.wire  # type: ignore[attr-defined]
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw or "{}")
        except json.JSONDecodeError:
            body = {}
        headers = {name.lower(): value for name, value in self.headers.items()}
        with wire._lock:
            wire.metadata_requests.append(RecordedRequest("metadata", path, headers, body, raw))
        if path in wire.metadata:
            self._send_json(200, wire.metadata[path])
        else:
            self._send_json(404, {"error": {"message": f"no route {path}", "type": "not_found_error"}})

    def do_POST(self) -> None:
        route = ROUTES.get(self.path.split("?", 1)[0])
        raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8", "replace")
        wire_server: WireServer = self.server.wire  # type: ignore[attr-defined]
        if route is None and self.path.split("?", 1)[0] in wire_server.metadata:
            self._serve_metadata(raw)
            return
        if route is None:
            self._send_json(404, {"error": {"message": f"no route {self.path}", "type": "not_found_error"}})
            return
        provider, fmt = route
        try:
            body = json.loads(raw or "{}")
        except json.JSONDecodeError as exc:
            self._send_json(400, fmt.error_body(400, f"request body is not JSON: {exc}", None))
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        wire: WireServer = self.server.wire  # type: ignore[attr-defined]
        number, reply = wire.next_reply(RecordedRequest(provider, self.path, headers, body, raw))
        self._answer(fmt, body, number, reply)

    def _answer(self, fmt: ModuleType, body: dict[str, Any], number: int, reply: Reply | None) -> None:
        if reply is None:
            self._send_json(400, fmt.error_body(400, "wire server script is exhausted", None))
            return
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200:
            self._send_error(fmt, reply)
            return
        problem = fmt.request_problem(body)
        if problem is not None:
            self._send_json(400, fmt.error_body(400, problem, None))
        elif body.get("stream"):
            self._send_sse(fmt.stream_events(reply, body, number))
        else:
            self._send_json(200, fmt.response(reply, body, number))

    def _send_error(self, fmt: ModuleType, reply: Reply) -> None:
        extra = {}
        if (value := reply.retry_after_header()) is not None:
            extra["retry-after"] = value
        self._send_json(reply.status, fmt.error_body(reply.status, reply.error_message, reply.error_code), extra)

    def _send_json(self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_sse(self, frames: Iterator[str]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for frame in frames:
            data = frame.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
