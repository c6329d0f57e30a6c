"""The stand-in kubelet's half: one Docker container per pod, and the pod's status read from it.

Each pod gets a thread, as each pod gets a kubelet worker: it creates and starts the container, then
waits for it to exit or for the Job's activeDeadlineSeconds. At the deadline it does what a v1.31+
Job controller does: FailureTarget (DeadlineExceeded) at once, the pod stopped with its grace period
and deleted, and only then Failed. Status reads never wait for that thread.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.kube_container import ConfigError, Unschedulable, create_kwargs, pull_problem
from tests.support.kube_podspec import ContainerPlan
from tests.support.kube_status import job_status, now, pod_manifest, stamp

LABEL = "csvanalyst.testing.kubelet"
PID_LABEL = f"{LABEL}.pid"
WAIT_CHUNK_S = 5.0


@dataclass(eq=False)
class Pod:
    """A Job's one pod, as the controller and the kubelet track it."""

    namespace: str
    name: str
    job: dict[str, Any]
    plan: ContainerPlan
    container: str
    deadline: float | None  # monotonic
    ttl_s: int | None
    created: str = field(default_factory=now)
    uid: str = field(default_factory=lambda: str(uuid.uuid4()))
    container_id: str | None = None
    waiting: tuple[str, str] | None = None  # (reason, message) while it cannot start
    unschedulable: str | None = None
    deadline_passed: bool = False  # the controller noticed: FailureTarget while the pod terminates
    deadline_exceeded: bool = False  # the pod is gone: Failed
    finished: float | None = None  # monotonic, once the Job is complete or failed
    gone: bool = False
    deleted: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    thread: threading.Thread | None = None


class Kubelet:
    """Runs pods as containers; `claims` maps a claim name to the host directory standing for its PV."""

    def __init__(self, claims: dict[str, str | Path] | None = None, client: Any = None) -> None:
        if client is None:
            import docker

            client = docker.from_env(timeout=60)
        self.client = client
        self.claims: dict[str, str | Path] = dict(claims or {})
        self.pods: list[Pod] = []

    def admit(self, job: dict[str, Any], plan: ContainerPlan) -> Pod:
        """The Job controller's pod for a just-created Job, handed to its own worker thread."""
        spec = job["spec"]
        deadline = spec.get("activeDeadlineSeconds")
        name = job["metadata"]["name"]
        pod = Pod(
            namespace=job["metadata"]["namespace"],
            name=f"{name}-{secrets.token_hex(3)[:5]}",
            job=job,
            plan=plan,
            container=spec["template"]["spec"]["containers"][0]["name"],
            deadline=time.monotonic() + deadline if deadline is not None else None,
            ttl_s=spec.get("ttlSecondsAfterFinished"),
        )
        pod.thread = threading.Thread(target=self._work, args=(pod,), name=f"kubelet-{pod.name}", daemon=True)
        self.pods.append(pod)
        pod.thread.start()
        return pod

    def _work(self, pod: Pod) -> None:
        try:
            self._start(pod)
        except ConfigError as exc:
            pod.waiting = ("CreateContainerConfigError", str(exc))
        except Unschedulable as exc:
            pod.unschedulable = str(exc)
        except Exception as exc:  # the daemon refused the container: what a runtime reports at start
            pod.waiting = ("RunContainerError", f"{type(exc).__name__}: {exc}")
        self._await_end(pod)

    def _start(self, pod: Pod) -> None:
        with pod.lock:
            if pod.deleted.is_set():
                return
            problem = pull_problem(self.client, pod.plan)
            if problem is not None:
                pod.waiting = problem
                return
            kwargs = create_kwargs(self.client, pod, self.claims)
            kwargs["labels"] = {LABEL: "pod", PID_LABEL: str(os.getpid()), f"{LABEL}.pod": pod.name}
            pod.container_id = self.client.containers.create(**kwargs).id
        with contextlib.suppress(Exception):  # deleted between create and start
            self.client.api.start(pod.container_id)

    def _await_end(self, pod: Pod) -> None:
        while not pod.deleted.is_set():
            remaining = pod.deadline - time.monotonic() if pod.deadline is not None else WAIT_CHUNK_S
            if remaining <= 0:
                self._exceed(pod)
                return
            if pod.container_id is None:
                pod.deleted.wait(min(remaining, WAIT_CHUNK_S))
                continue
            try:
                self.client.api.wait(pod.container_id, timeout=min(remaining, WAIT_CHUNK_S))
            except Exception:  # the wait timed out (or the container is gone): look again
                continue
            pod.finished = time.monotonic()
            return

    def _exceed(self, pod: Pod) -> None:
        with pod.lock:
            if pod.deleted.is_set():
                return
            pod.deadline_passed = True
            if pod.container_id is not None:
                with contextlib.suppress(Exception):
                    self.client.api.stop(pod.container_id, timeout=pod.plan.grace_s)
                self._remove(pod)
            pod.gone = True
            pod.finished = time.monotonic()
            pod.deadline_exceeded = True

    def delete(self, pod: Pod) -> None:
        """The pod is deleted: its container is killed and removed at once."""
        pod.deleted.set()
        with pod.lock:
            self._remove(pod)
            pod.gone = True

    def _remove(self, pod: Pod) -> None:
        if pod.container_id is not None:
            with contextlib.suppress(Exception):
                self.client.api.remove_container(pod.container_id, force=True)

    def close(self) -> None:
        """Every pod deleted and its worker joined, then the client's pooled connections closed."""
        for pod in self.pods:
            self.delete(pod)
        for pod in self.pods:
            if pod.thread is not None:
                pod.thread.join(timeout=30)
        self.client.close()

    def leftovers(self) -> list[Any]:
        """Containers this process's stand-in kubelets started that still exist."""
        return self.client.containers.list(all=True, filters={"label": [LABEL, f"{PID_LABEL}={os.getpid()}"]})

    def _state(self, pod: Pod) -> dict[str, Any] | None:
        if pod.container_id is None:
            return None
        try:
            return self.client.api.inspect_container(pod.container_id)["State"]
        except Exception:  # removed under us
            return None

    def not_started(self, pod: Pod) -> str | None:
        """Why the container cannot serve a log yet, or None once it has started."""
        if pod.waiting is not None:
            return pod.waiting[0]
        if pod.container_id is None:
            return "ContainerCreating"
        state = self._state(pod)  # None: removed under us, and log() reports the pod gone
        return "ContainerCreating" if state is not None and state.get("Status") == "created" else None

    def log(self, pod: Pod, limit: int | None) -> bytes:
        """stdout and stderr interleaved, from the start, at most `limit` bytes (the logs API's limitBytes)."""
        data = bytearray()
        stream = self.client.api.logs(pod.container_id, stdout=True, stderr=True, stream=True, follow=False)
        try:
            for chunk in stream:
                data += chunk
                if limit is not None and len(data) >= limit:
                    break
        finally:
            with contextlib.suppress(Exception):
                stream.close()
        return bytes(data[:limit] if limit is not None else data)

    def container_status(self, pod: Pod) -> tuple[str, dict[str, Any]]:
        """(pod phase, the container's state) as the kubelet reports them."""
        if pod.waiting is not None:
            reason, message = pod.waiting
            return "Pending", {"waiting": {"reason": reason, "message": message}}
        state = self._state(pod)
        if state is None or state.get("Status") == "created":
            return "Pending", {"waiting": {"reason": "ContainerCreating"}}
        if state.get("Status") in ("running", "paused", "restarting"):
            return "Running", {"running": {"startedAt": stamp(state["StartedAt"])}}
        code = int(state.get("ExitCode", -1))
        reason = "OOMKilled" if state.get("OOMKilled") else "Completed" if code == 0 else "Error"
        terminated = {
            "exitCode": code,
            "reason": reason,
            "startedAt": stamp(state["StartedAt"]),
            "finishedAt": stamp(state["FinishedAt"]),
            "containerID": f"docker://{pod.container_id}",
        }
        return ("Succeeded" if code == 0 else "Failed"), {"terminated": terminated}

    def pod_object(self, pod: Pod) -> dict[str, Any]:
        phase, state = self.container_status(pod)
        return pod_manifest(pod, phase, state)

    def job_status(self, pod: Pod) -> dict[str, Any]:
        if pod.deadline_exceeded:
            return job_status(pod, "DeadlineExceeded")
        if pod.deadline_passed:
            return job_status(pod, "DeadlinePassed")
        phase = "Pending" if pod.gone else self.container_status(pod)[0]
        return job_status(pod, phase)
