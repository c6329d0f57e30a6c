"""The Pod and Job objects the stand-in API server serves, in a v1.34 API server's shape.

Only what a real server reports for a Job with backoffLimit 0 and its one pod: the phase, the
container's waiting/running/terminated state, PodScheduled, and the Job's counts and conditions
(Complete, Failed with BackoffLimitExceeded or DeadlineExceeded).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.support.kube_pod import Pod


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(docker_time: str) -> str:
    """Docker's nanosecond RFC 3339 at the API server's second precision."""
    return docker_time[:19] + "Z"


def pod_manifest(pod: Pod, phase: str, state: dict[str, Any]) -> dict[str, Any]:
    job_meta = pod.job["metadata"]
    labels = {
        **(pod.job["spec"]["template"].get("metadata") or {}).get("labels", {}),
        "batch.kubernetes.io/controller-uid": job_meta["uid"],
        "batch.kubernetes.io/job-name": job_meta["name"],
        "controller-uid": job_meta["uid"],
        "job-name": job_meta["name"],
    }
    owner = {"apiVersion": "batch/v1", "kind": "Job", "name": job_meta["name"], "uid": job_meta["uid"]}
    metadata = {
        "name": pod.name,
        "generateName": f"{job_meta['name']}-",
        "namespace": pod.namespace,
        "uid": pod.uid,
        "creationTimestamp": pod.created,
        "labels": labels,
        "ownerReferences": [{**owner, "controller": True, "blockOwnerDeletion": True}],
    }
    spec = pod.job["spec"]["template"]["spec"]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec, "status": _status(pod, phase, state)}


def _status(pod: Pod, phase: str, state: dict[str, Any]) -> dict[str, Any]:
    if pod.unschedulable is not None:
        scheduled = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": pod.unschedulable}
        return {"phase": "Pending", "conditions": [{**scheduled, "lastTransitionTime": pod.created}]}
    container = {
        "name": pod.container,
        "image": pod.plan.image,
        "imageID": "",
        "ready": "running" in state,
        "restartCount": 0,
        "started": "running" in state,
        "state": state,
    }
    scheduled = {"type": "PodScheduled", "status": "True", "lastTransitionTime": pod.created}
    return {
        "phase": phase,
        "qosClass": "Guaranteed",
        "startTime": pod.created,
        "conditions": [scheduled],
        "containerStatuses": [container],
    }


def job_status(pod: Pod, phase: str) -> dict[str, Any]:
    """The Job's status once the controller has seen its pod in `phase`, or DeadlinePassed (the pod is being
    terminated: FailureTarget only, as since v1.31) or DeadlineExceeded (it is gone: Failed)."""
    status: dict[str, Any] = {"startTime": pod.created, "terminating": 0, "uncountedTerminatedPods": {}}
    deadline = ("DeadlineExceeded", "Job was active longer than specified deadline")
    if phase == "DeadlinePassed":
        target = _condition("FailureTarget", *deadline, now())
        return {**status, "terminating": 1, "active": 0, "ready": 0, "conditions": [target]}
    if phase == "Succeeded":
        done = now()
        conditions = [
            _condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", done),
            _condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", done),
        ]
        return {**status, "ready": 0, "succeeded": 1, "completionTime": done, "conditions": conditions}
    if phase in ("Failed", "DeadlineExceeded"):
        reason, message = (
            deadline
            if phase == "DeadlineExceeded"
            else ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        )
        done = now()
        conditions = [_condition("FailureTarget", reason, message, done), _condition("Failed", reason, message, done)]
        return {**status, "ready": 0, "failed": 1, "conditions": conditions}
    return {**status, "active": 1, "ready": 1 if phase == "Running" else 0}


def _condition(kind: str, reason: str, message: str, at: str) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "lastProbeTime": at,
        "lastTransitionTime": at,
        "reason": reason,
        "message": message,
    }
