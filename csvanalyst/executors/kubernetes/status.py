"""Reading the API's Job and pod objects: conditions, the runner container's state, and the log's parts.

Pure functions over the kubernetes client's models, so the follower (watch.py) stays one loop.
"""

from __future__ import annotations

from typing import Any

from csvanalyst.executors.contract import STDERR_CAP
from csvanalyst.executors.kubernetes.job import CONTAINER


def split_log(raw: bytes) -> tuple[bytes, bytes]:
    """A pod log interleaves stdout and stderr; the runner's result is its one JSON-object line, the last."""
    lines = raw.splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].lstrip().startswith(b"{"):
            rest = b"\n".join(lines[:index] + lines[index + 1 :])
            return lines[index], rest[-STDERR_CAP:]
    return b"", raw[-STDERR_CAP:]


def newest(pods: list[Any]) -> Any:
    """With backoffLimit 0 a Job has one pod; if the controller made another, the latest is current."""
    if not pods:
        return None
    return max(pods, key=lambda p: (p.metadata.creation_timestamp is not None, p.metadata.creation_timestamp or 0))


def job_condition(job: Any, kind: str, reason: str | None = None) -> Any:
    for condition in (job.status.conditions if job.status else None) or []:
        if condition.type == kind and condition.status == "True" and (reason is None or condition.reason == reason):
            return condition
    return None


def past_deadline(job: Any) -> bool:
    """Since v1.31 the controller marks FailureTarget at the deadline and Failed only once the pod is gone;
    meanwhile the pod shows the kill (exit 143 or 137), which must read as the timeout, not a crash or OOM."""
    return any(job_condition(job, kind, "DeadlineExceeded") is not None for kind in ("FailureTarget", "Failed"))


def container_state(pod: Any) -> Any:
    for status in (pod.status.container_statuses if pod.status else None) or []:
        if status.name == CONTAINER:
            return status.state
    return None


def eviction_reason(pod: Any) -> str | None:
    status = pod.status
    if status is None:
        return None
    if status.reason == "Evicted":
        return status.message or "evicted by the kubelet"
    for condition in status.conditions or []:
        if condition.type == "DisruptionTarget" and condition.status == "True":
            return f"{condition.reason}: {condition.message or 'no detail'}"
    return None


def unschedulable_reason(pod: Any) -> str | None:
    for condition in (pod.status.conditions if pod.status else None) or []:
        if condition.type == "PodScheduled" and condition.status == "False" and condition.reason == "Unschedulable":
            return condition.message or "no detail"
    return None


def phase(pod: Any) -> str:
    state = container_state(pod)
    if state is not None and state.waiting is not None:
        return f"waiting: {state.waiting.reason}"
    return (pod.status.phase if pod.status else None) or "Pending"


def state_name(state: Any) -> str:
    """Which of waiting / running / terminated the container is in ("" before it exists)."""
    if state is None:
        return ""
    return next((name for name in ("terminated", "running", "waiting") if getattr(state, name, None)), "")
