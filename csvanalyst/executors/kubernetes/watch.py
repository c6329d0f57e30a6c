"""Following one runner Job until it ends, and reading what its pod wrote.

Polling (not a watch stream): two cheap GETs per tick, each with a short timeout, survive proxies and
API-server restarts that silently end watches, and keep cancel and the deadline checks in one loop. The
interval starts at FAST_POLL_S and grows to poll_s, and starts over whenever the pod's state changes: a
query usually ends soon after its container starts, so that is noticed in tens of milliseconds, while a
long run costs the API server two requests per poll_s.
The outcome is an Outcome for to_result(), so statuses match local and docker exactly; what only a
cluster can do to a run (a pull failure, no node, an eviction, a deleted pod) is a KubeFailure.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from csvanalyst.executors.base import Limits
from csvanalyst.executors.contract import KILL_GRACE_S, STDOUT_MARGIN, Outcome
from csvanalyst.executors.kubernetes.errors import (
    LIST_PODS,
    READ_JOB,
    READ_LOG,
    Call,
    KubeFailure,
    from_api,
    is_transient,
    status_of,
)
from csvanalyst.executors.kubernetes.job import CONTAINER, RUN_LABEL
from csvanalyst.executors.kubernetes.status import (
    container_state,
    eviction_reason,
    job_condition,
    newest,
    past_deadline,
    phase,
    split_log,
    state_name,
    unschedulable_reason,
)

if TYPE_CHECKING:
    import urllib3

PULL_ERRORS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
START_ERRORS = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError", "StartError"}
MAX_TRANSIENT = 3  # consecutive 5xx/unreachable answers to one call tolerated while following a run
CALL_TIMEOUT_S = 10.0
FAST_POLL_S = 0.05
BACKOFF = 1.5


@dataclass(frozen=True)
class Target:
    """The Job being followed and what it was started with."""

    namespace: str
    name: str
    run_id: str
    image: str
    host: str


class Watch:
    """One run's view of the cluster; `follow()` returns an Outcome or raises KubeFailure."""

    def __init__(
        self,
        api_client: Any,
        target: Target,
        limits: Limits,
        *,
        start_timeout_s: float,
        poll_s: float,
        cancel: threading.Event | None = None,
    ) -> None:
        from kubernetes import client

        self.batch = client.BatchV1Api(api_client)
        self.core = client.CoreV1Api(api_client)
        self.target = target
        self.limits = limits
        self.start_timeout_s = start_timeout_s
        self.poll_s = poll_s
        self.cancel = cancel or threading.Event()
        self._transient: dict[Call, int] = {}
        self._created = time.monotonic()
        self._running_since: float | None = None
        self._pod_seen = False
        self._state: tuple[str, str] | None = None  # (pod phase, container state) at the last tick

    def follow(self) -> Outcome:
        delay = min(FAST_POLL_S, self.poll_s)
        seen = None
        while True:
            if self.cancel.is_set():
                return Outcome(None, b"", b"", cancelled=True)
            outcome = self._tick()
            if outcome is not None:
                return outcome
            if self._state != seen:
                seen, delay = self._state, min(FAST_POLL_S, self.poll_s)
            self.cancel.wait(delay)
            delay = min(self.poll_s, delay * BACKOFF)

    def _tick(self) -> Outcome | None:
        job = self._call(READ_JOB, self.batch.read_namespaced_job, self.target.name, self.target.namespace)
        if job is not None and past_deadline(job):
            return Outcome(None, b"", b"", timed_out=True)
        listed = self._call(
            LIST_PODS,
            self.core.list_namespaced_pod,
            self.target.namespace,
            label_selector=f"{RUN_LABEL}={self.target.run_id}",
        )
        if listed is None:
            return None
        pod = newest(listed.items or [])
        if pod is None:
            return self._no_pod(job)
        self._pod_seen = True
        return self._examine(pod)

    def _no_pod(self, job: Any) -> Outcome | None:
        if self._pod_seen:
            raise self._vanished()
        failed = job_condition(job, "Failed") if job is not None else None
        if failed is not None:
            raise KubeFailure(
                "job_failed",
                f"The runner Job {self.target.name} failed before its pod started: {failed.message or failed.reason}",
                f"See `kubectl describe job -n {self.target.namespace} {self.target.name}` (quota, admission).",
            )
        self._check_start_timeout(None)
        return None

    def _examine(self, pod: Any) -> Outcome | None:
        status = pod.status
        if status is not None and status.reason == "DeadlineExceeded":
            return Outcome(None, b"", b"", timed_out=True)
        evicted = eviction_reason(pod)
        if evicted:
            raise KubeFailure(
                "pod_evicted",
                f"The runner pod was evicted before it finished: {evicted}",
                "The node ran short of resources or is being drained; ask again (lower memory may fit better).",
            )
        state = container_state(pod)
        self._state = (str(status.phase if status is not None else ""), state_name(state))
        waiting = state.waiting if state is not None else None
        if waiting is not None and waiting.reason in PULL_ERRORS:
            raise self._pull_failure(waiting)
        if waiting is not None and waiting.reason in START_ERRORS:
            raise KubeFailure(
                "container_start_failed",
                f"The runner container could not start ({waiting.reason}): {waiting.message or 'no detail'}",
                f"See `kubectl describe pod -n {self.target.namespace} {pod.metadata.name}`.",
            )
        terminated = state.terminated if state is not None else None
        if terminated is not None:
            return self._finished(pod, terminated)
        if status is not None and status.phase in ("Succeeded", "Failed"):
            return self._collect(pod, 0 if status.phase == "Succeeded" else 1)
        return self._while_alive(pod, state)

    def _while_alive(self, pod: Any, state: Any) -> Outcome | None:
        now = time.monotonic()
        if state is not None and state.running is not None:
            self._running_since = self._running_since or now
        if self._running_since is None:
            self._check_start_timeout(pod)
        elif now - self._running_since > self.limits.timeout_s + KILL_GRACE_S:
            return Outcome(None, b"", b"", timed_out=True)
        return None

    def _finished(self, pod: Any, terminated: Any) -> Outcome:
        if terminated.reason == "StartError":
            raise KubeFailure(
                "container_start_failed",
                f"The runner container could not start: {terminated.message or terminated.reason}",
                f"See `kubectl describe pod -n {self.target.namespace} {pod.metadata.name}`.",
            )
        code = int(terminated.exit_code if terminated.exit_code is not None else -1)
        if terminated.reason == "OOMKilled":
            code = -signal.SIGKILL
        elif code > 128:
            code = -(code - 128)
        return self._collect(pod, code)

    def _collect(self, pod: Any, returncode: int) -> Outcome:
        cap = self.limits.max_output_bytes + STDOUT_MARGIN
        raw = self._read_log(pod.metadata.name, cap + 1)
        if len(raw) > cap:
            return Outcome(returncode, b"", b"", overflow=True)
        stdout, stderr = split_log(raw)
        if returncode == -signal.SIGKILL:
            stdout = b""  # a killed runner wrote no result; anything JSON-like is not one
        return Outcome(returncode, stdout, stderr)

    def _read_log(self, pod_name: str, limit: int) -> bytes:
        try:
            response = self.core.read_namespaced_pod_log(
                pod_name,
                self.target.namespace,
                container=CONTAINER,
                limit_bytes=limit,
                _preload_content=False,
                _request_timeout=CALL_TIMEOUT_S,
            )
        except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
            if status_of(exc) == 404:
                raise self._vanished() from exc
            raise from_api(exc, READ_LOG, self.target.namespace, self.target.host) from exc
        # With _preload_content=False the client returns urllib3's raw response, not the str it declares.
        return bytes(cast("urllib3.BaseHTTPResponse", response).data or b"")

    def _call(self, call: Call, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One read; a transient failure returns None (up to MAX_TRANSIENT in a row), any other raises."""
        try:
            answer = method(*args, _request_timeout=CALL_TIMEOUT_S, **kwargs)
        except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
            if call == READ_JOB and status_of(exc) == 404:
                raise KubeFailure(
                    "job_deleted",
                    f"The runner Job {self.target.name} was deleted while the run was in progress.",
                    "Someone or something (e.g. `csvanalyst runner cleanup`, a namespace cleanup) removed it.",
                ) from exc
            self._transient[call] = self._transient.get(call, 0) + 1
            if not is_transient(exc) or self._transient[call] >= MAX_TRANSIENT:
                raise from_api(exc, call, self.target.namespace, self.target.host) from exc
            return None
        self._transient[call] = 0
        return answer

    def _check_start_timeout(self, pod: Any) -> None:
        waited = time.monotonic() - self._created
        if waited <= self.start_timeout_s:
            return
        unschedulable = unschedulable_reason(pod) if pod is not None else None
        if unschedulable is not None:
            raise KubeFailure(
                "unschedulable",
                f"No node could take the runner pod within {self.start_timeout_s:g} s; the scheduler says: "
                f"{unschedulable}",
                "Lower the run's memory or threads, add capacity, or check taints and k8s_colocate_labels.",
            )
        where = f"pod {pod.metadata.name} is {phase(pod)}" if pod is not None else "no pod was created"
        raise KubeFailure(
            "start_timeout",
            f"The runner did not start within {self.start_timeout_s:g} s ({where}).",
            f"See `kubectl describe job -n {self.target.namespace} {self.target.name}`; slow image pulls need "
            "a larger CSVANALYST_K8S_START_TIMEOUT_S.",
        )

    def _vanished(self) -> KubeFailure:
        return KubeFailure(
            "pod_deleted",
            f"The runner pod of Job {self.target.name} was deleted before it finished.",
            "Someone or something (a node drain, a cleanup job) removed it; ask again.",
        )

    def _pull_failure(self, waiting: Any) -> KubeFailure:
        image = self.target.image
        return KubeFailure(
            "image_pull_failed",
            f"The cluster cannot pull the runner image {image} ({waiting.reason}): {waiting.message or 'no detail'}",
            f"Load it into the cluster (kind: `kind load docker-image {image}`; k3d: `k3d image import {image}`) "
            "or push it to a registry the nodes can reach and set CSVANALYST_K8S_IMAGE; "
            "`csvanalyst runner build` builds it.",
        )
