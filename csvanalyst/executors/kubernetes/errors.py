"""API failures in the user's terms: which call failed, why, and the RBAC rule or command that fixes it.

Every exception the kubernetes client can raise (an ApiException with a status, or a urllib3/socket
error when the server cannot be reached) becomes one KubeFailure, which a run reports as a
sandbox_error with a stable code. Nothing here lets a traceback reach the user.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from csvanalyst.executors.base import RunError, RunResult


class KubeFailure(Exception):
    """A run ended by the cluster, not by the runner: reported as a sandbox_error with a code and a hint."""

    def __init__(self, code: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def result(self) -> RunResult:
        return RunResult(status="sandbox_error", error=RunError(code=self.code, message=self.message, hint=self.hint))


@dataclass(frozen=True)
class Call:
    """One API call the executor makes, named as RBAC names it."""

    verb: str
    resource: str
    group: str = ""
    subresource: str = ""

    @property
    def rule(self) -> str:
        """e.g. `create jobs.batch` or `get pods/log`: what a Role must grant."""
        name = f"{self.resource}.{self.group}" if self.group else self.resource
        return f"{self.verb} {name}{'/' + self.subresource if self.subresource else ''}"


CREATE_JOB = Call("create", "jobs", "batch")
READ_JOB = Call("get", "jobs", "batch")
DELETE_JOB = Call("delete", "jobs", "batch")
LIST_JOBS = Call("list", "jobs", "batch")
LIST_PODS = Call("list", "pods")
READ_LOG = Call("get", "pods", subresource="log")
RUN_CALLS = (CREATE_JOB, READ_JOB, DELETE_JOB, LIST_PODS, READ_LOG)

UNREACHABLE_HINT = "Check that the cluster is up and KUBECONFIG (or the context) points at it; or use --sandbox local."


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an ApiException; None for anything else (e.g. the server was not reached)."""
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) and hasattr(exc, "body") else None


def is_transient(exc: BaseException) -> bool:
    """Worth another try on the next poll: a 5xx, a 429, or a connection that failed."""
    status = status_of(exc)
    return status is None or status == 429 or status >= 500


def api_message(exc: BaseException) -> str:
    """The API server's own sentence (the `message` of its Status object), else the exception's text."""
    body = getattr(exc, "body", None)
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str) and body.strip():
        try:
            message = json.loads(body).get("message")
        except (ValueError, AttributeError):
            message = body.strip()
        if message:
            return str(message)[:500]
    refused = _connection_failure(exc)
    if refused is not None:
        return refused
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:500]


def never_sent(exc: BaseException) -> bool:
    """True when the request never reached a server (no connection), so it certainly created nothing."""
    return _connection_failure(exc) is not None


def _connection_failure(exc: BaseException) -> str | None:
    """A short reason when the client could not connect at all (urllib3 wraps it in MaxRetryError.reason)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if type(seen).__name__ == "NameResolutionError":
            return "its host name does not resolve"
        if type(seen).__name__ == "NewConnectionError":
            reason = str(seen).rsplit(":", 1)[-1].strip(" )\"'")
            return reason or "could not connect"
        cause = getattr(seen, "reason", None)  # urllib3's MaxRetryError; ApiException's is a string
        seen = cause if isinstance(cause, BaseException) else (seen.__cause__ or seen.__context__)
    return None


def from_api(exc: BaseException, call: Call, namespace: str, host: str) -> KubeFailure:
    """One precise failure for whatever the client raised during `call`."""
    status = status_of(exc)
    said = api_message(exc)
    if status is None:
        return KubeFailure(
            "k8s_unreachable", f"The Kubernetes API at {host} is not reachable ({said}).", UNREACHABLE_HINT
        )
    if status == 401:
        return KubeFailure(
            "k8s_unauthorized",
            f"The Kubernetes API at {host} rejected our credentials (401) on `{call.rule}`: {said}",
            "Refresh the kubeconfig's credentials (e.g. run any kubectl command to log in again) or the "
            "pod's service account token.",
        )
    if status == 403:
        return KubeFailure(
            "k8s_forbidden",
            f"Not allowed to {call.rule} in namespace {namespace}: {said}",
            f"Grant the missing RBAC permission `{call.rule}` in namespace {namespace} to this user or service "
            "account (the Helm chart's Role grants create/get/list/delete on jobs, list on pods, get on pods/log).",
        )
    if status == 404 and call == CREATE_JOB:
        return KubeFailure(
            "k8s_namespace_missing",
            f"The namespace {namespace} does not exist on {host}: {said}",
            f"Create it (`kubectl create namespace {namespace}`) or set CSVANALYST_K8S_NAMESPACE.",
        )
    if status == 409:
        return KubeFailure(
            "k8s_conflict",
            f"The API refused `{call.rule}` as a conflict: {said}",
            "Retry the question; every run uses a fresh Job name.",
        )
    if status == 422:
        return KubeFailure(
            "k8s_invalid",
            f"The API rejected the runner Job: {said}",
            "An admission policy (e.g. Pod Security or a quota) refused it; see the message for the field.",
        )
    return KubeFailure(
        "k8s_api_error",
        f"The Kubernetes API answered {status} to `{call.rule}` in namespace {namespace}: {said}",
        "Check the API server's health (`kubectl get --raw /readyz`) and retry.",
    )
