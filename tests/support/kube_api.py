"""A real HTTP server on loopback that speaks the Kubernetes REST API, replaying a recorded scenario.

It answers exactly the calls the kubernetes sandbox makes, in the API server's wire format, so the
real kubernetes client (its serialisation, its errors, our mapping of both) runs end to end with no
cluster. Every request is recorded for assertions.

    with KubeApiServer.from_fixture("tests/fixtures/k8s/success.json") as server:
        executor = KubernetesExecutor(api_client=server.api_client(), datasets_pvc="data", poll_s=0.01)
        executor.run(request)
        server.created_jobs[0]["spec"]                 # the Job body the client sent
        server.calls("delete_job")[0].query            # {"propagationPolicy": ["Background"]}

A scenario is JSON: {"scenario", "description", "responses": {route: [reply, ...]}, "denied": [rule, ...]}.
Routes: create_job, read_job, delete_job, list_jobs, list_pods, read_log, access_review, version.
A reply is {"status": 200, "body": {...}} or {"status": 200, "text": "..."} or {"drop": true} (close the
connection unanswered). Successive requests to a route take successive replies; the last one repeats.
In replies, ${job} ${namespace} ${run} ${uid} ${image} stand for the created Job's values. A read_job
body is merged over the Job as created (the API server returns the stored spec with the current status).

Routes without replies behave like an API server with no controllers: create_job stores and echoes the
Job, read_job returns it, delete_job removes it (404 once gone), list_jobs and list_pods filter by label
selector, read_log answers "", access_review allows every rule except those in "denied" (written like
`create jobs.batch` or `get pods/log`), version answers v1.34.1.
"""

from __future__ import annotations

import copy
import json
import re
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from csvanalyst.testing.loopback import LoopbackServer

__all__ = ["KubeApiServer", "RecordedRequest"]

CREATED_AT = "2025-06-01T12:00:00Z"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs$"), "create_job"),
    ("GET", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs$"), "list_jobs"),
    ("GET", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs/(?P<name>[^/]+)$"), "read_job"),
    ("DELETE", re.compile(r"^/apis/batch/v1/namespaces/(?P<ns>[^/]+)/jobs/(?P<name>[^/]+)$"), "delete_job"),
    ("GET", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods$"), "list_pods"),
    ("GET", re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/log$"), "read_log"),
    ("POST", re.compile(r"^/apis/authorization\.k8s\.io/v1/selfsubjectaccessreviews$"), "access_review"),
    ("GET", re.compile(r"^/version/?$"), "version"),
]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it."""

    method: str
    route: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: Any
    raw: str


@dataclass
class Reply:
    status: int
    body: Any = None
    text: str | None = None
    drop: bool = False


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up is expected; anything else is still reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class KubeApiServer(LoopbackServer):
    """Scripted fake API server; a context manager that serves on an ephemeral loopback port."""

    thread_name = "kube-api-server"

    def __init__(self, scenario: dict[str, Any] | None = None, *, host: str = "127.0.0.1") -> None:
        scenario = scenario or {}
        self.scenario = scenario
        self._replies: dict[str, list[dict[str, Any]]] = {k: list(v) for k, v in scenario.get("responses", {}).items()}
        self._taken: dict[str, int] = {}
        self.denied: set[str] = set(scenario.get("denied", []))
        self.requests: list[RecordedRequest] = []
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.created_jobs: list[dict[str, Any]] = []
        self._values: dict[str, str] = {}
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, 0), _Handler)
        self._httpd.kube = self  # type: ignore[attr-defined]

    @classmethod
    def from_fixture(cls, path: str | Path) -> KubeApiServer:
        return cls(json.loads(Path(path).read_text()))

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def api_client(self) -> Any:
        """A kubernetes ApiClient pointed at this server (its own Configuration, not the global one)."""
        from kubernetes import client

        configuration = client.Configuration()
        configuration.host = self.url
        return client.ApiClient(configuration)

    def calls(self, route: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.route == route]

    def handle(self, record: RecordedRequest, params: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(record)
            if "ns" in params:
                self._values["namespace"] = params["ns"]
            if record.route == "create_job" and isinstance(record.body, dict):
                self._values["job"] = (record.body.get("metadata") or {}).get("name", "")
            scripted = self._next(record.route)
            return getattr(self, f"_{record.route}")(record, params, scripted)

    def _next(self, route: str) -> Reply | None:
        replies = self._replies.get(route)
        if not replies:
            return None
        index = min(self._taken.get(route, 0), len(replies) - 1)
        self._taken[route] = index + 1
        raw = _substitute(replies[index], self._values)
        return Reply(raw.get("status", 200), raw.get("body"), raw.get("text"), bool(raw.get("drop")))

    def _create_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        if scripted is not None and (scripted.status >= 300 or scripted.drop):
            return scripted
        job = copy.deepcopy(record.body)
        meta = job.setdefault("metadata", {})
        meta.update(namespace=params["ns"], uid=str(uuid.uuid4()), resourceVersion="1", creationTimestamp=CREATED_AT)
        meta.setdefault("generation", 1)
        job["status"] = {}
        self.jobs[(params["ns"], meta["name"])] = job
        self.created_jobs.append(record.body)
        containers = job["spec"]["template"]["spec"]["containers"]
        labels = meta.get("labels", {})
        self._values.update(
            {
                "job": meta["name"],
                "namespace": params["ns"],
                "run": labels.get("csvanalyst.io/run", ""),
                "uid": meta["uid"],
                "image": containers[0].get("image", ""),
            }
        )
        return Reply(201, job)

    def _read_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        stored = self.jobs.get((params["ns"], params["name"]))
        if stored is None:
            return Reply(404, not_found("jobs", "batch", params["name"]))
        if scripted is None:
            return Reply(200, stored)
        if scripted.status >= 300 or scripted.drop:
            return scripted
        return Reply(200, _merge(stored, scripted.body or {}))

    def _delete_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        if scripted is not None:
            return scripted
        stored = self.jobs.pop((params["ns"], params["name"]), None)
        if stored is None:
            return Reply(404, not_found("jobs", "batch", params["name"]))
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
        return Reply(200, {**status, "details": {"name": params["name"], "group": "batch", "kind": "jobs"}})

    def _list_jobs(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        if scripted is not None:
            return scripted
        items = [j for (ns, _), j in self.jobs.items() if ns == params["ns"]]
        return Reply(200, _list("JobList", "batch/v1", _select(items, record.query)))

    def _list_pods(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        if scripted is None:
            return Reply(200, _list("PodList", "v1", []))
        if scripted.status >= 300 or scripted.drop:
            return scripted
        items = (scripted.body or {}).get("items", [])
        return Reply(200, {**scripted.body, "items": _select(items, record.query)})

    def _read_log(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        reply = scripted or Reply(200, text="")
        if reply.text is not None and "limitBytes" in record.query:
            data = reply.text.encode("utf-8")[: int(record.query["limitBytes"][0])]
            reply = Reply(reply.status, text=data.decode("utf-8", "ignore"))
        return reply

    def _access_review(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        if scripted is not None:
            return scripted
        attributes = (record.body.get("spec") or {}).get("resourceAttributes") or {}
        group, resource, sub = attributes.get("group"), attributes.get("resource"), attributes.get("subresource")
        rule = f"{attributes.get('verb')} {resource}{'.' + group if group else ''}{'/' + sub if sub else ''}"
        allowed = rule not in self.denied
        status = {"allowed": allowed} if allowed else {"allowed": False, "reason": f"no RBAC policy matched {rule}"}
        return Reply(201, {**record.body, "status": status})

    def _version(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        version = {
            "major": "1",
            "minor": "34",
            "emulationMajor": "1",
            "emulationMinor": "34",
            "minCompatibilityMajor": "1",
            "minCompatibilityMinor": "33",
            "gitVersion": "v1.34.1",
            "gitCommit": "93248f9ae092f571eb870b7664c534bfc7d00f03",
            "gitTreeState": "clean",
            "buildDate": "2025-09-09T19:43:15Z",
            "goVersion": "go1.24.6",
            "compiler": "gc",
            "platform": "linux/amd64",
        }
        return scripted or Reply(200, version)


def not_found(kind: str, group: str, name: str) -> dict[str, Any]:
    """The Status object the API server answers for a missing object."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'{kind}.{group} "{name}" not found' if group else f'{kind} "{name}" not found',
        "reason": "NotFound",
        "details": {"name": name, "group": group, "kind": kind},
        "code": 404,
    }


def _list(kind: str, api_version: str, items: list[Any]) -> dict[str, Any]:
    return {"kind": kind, "apiVersion": api_version, "metadata": {"resourceVersion": "1"}, "items": items}


def _select(items: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Equality-based label selectors (`a=b,c=d`), the only kind the executor sends."""
    selector = (query.get("labelSelector") or [""])[0]
    wanted = dict(term.split("=", 1) for term in selector.split(",") if "=" in term)
    return [i for i in items if all((i.get("metadata", {}).get("labels") or {}).get(k) == v for k, v in wanted.items())]


def _merge(base: Any, over: Any) -> Any:
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in over.items()}}
    return copy.deepcopy(over)


def _substitute(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for key, replacement in values.items():
            value = value.replace("${" + key + "}", replacement)
        return value
    if isinstance(value, list):
        return [_substitute(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _substitute(v, values) for k, v in value.items()}
    return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests read `server.requests`, not stderr."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        url = urlsplit(self.path)
        raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8", "replace")
        route, params = _route(method, url.path)
        if route is None:
            self._send(Reply(404, not_found("paths", "", url.path)))
            return
        body = json.loads(raw) if raw.strip() else None
        headers = {name.lower(): value for name, value in self.headers.items()}
        record = RecordedRequest(method, route, url.path, parse_qs(url.query), headers, body, raw)
        server: KubeApiServer = self.server.kube  # type: ignore[attr-defined]
        self._send(server.handle(record, params))

    def _send(self, reply: Reply) -> None:
        if reply.drop:
            self.close_connection = True
            self.connection.close()
            return
        if reply.text is not None:
            data, kind = reply.text.encode("utf-8"), "text/plain"
        else:
            data, kind = json.dumps(reply.body).encode("utf-8"), "application/json"
        self.send_response(reply.status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _route(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for verb, pattern, route in ROUTES:
        match = pattern.match(path)
        if verb == method and match:
            return route, match.groupdict()
    return None, {}


def fixtures(directory: str | Path) -> Iterator[Path]:
    """Every scenario file in `directory`, in name order."""
    yield from sorted(Path(directory).glob("*.json"))
