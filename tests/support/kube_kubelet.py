"""A stand-in kubelet played by Docker: each runner Job's pod really runs, as one container.

Not a live cluster. The API server is played by kube_api.KubeApiServer, the Job controller and the
kubelet by this module: when a Job is created, its pod spec is translated field by field
(kube_podspec; anything it does not know is refused with 422) into one Docker container of the same
image, command, env, user, read-only root, capabilities, no-new-privileges, memory/CPU limits, tmpfs
emptyDirs and read-only subPath binds of the claim's directory (the "PV", configured per claim name).
Its network is `none`, standing for the Helm chart's deny-all NetworkPolicy. The Job's and pod's
status are read from the container's real state, the pod log is its stdout and stderr interleaved as
the kubelet serves them, activeDeadlineSeconds kills it, and deleting the Job (Background or
Foreground propagation) removes it. Like a kubelet, it injects the default namespace's `kubernetes`
service variables, which enableServiceLinks=false does not turn off.

    kubelet = Kubelet({"datasets": claim_root})
    with KubeletApiServer(kubelet) as server:
        KubernetesExecutor(api_client=server.api_client(), datasets_pvc="datasets", ...).run(request)
    kubelet.close()
"""

from __future__ import annotations

import time
from typing import Any

from tests.support.kube_api import KubeApiServer, RecordedRequest, Reply, _list, _select, not_found
from tests.support.kube_pod import Kubelet, Pod
from tests.support.kube_podspec import Untranslatable, translate_job

__all__ = ["Kubelet", "KubeletApiServer"]

CASCADING = ("Background", "Foreground")


class KubeletApiServer(KubeApiServer):
    """The API server with a Job controller and a kubelet behind it: created Jobs really run."""

    def __init__(self, kubelet: Kubelet, *, host: str = "127.0.0.1") -> None:
        super().__init__(None, host=host)
        self.kubelet = kubelet
        self.pods: dict[tuple[str, str], Pod] = {}  # (namespace, job name) -> its one pod
        self.refusals: list[str] = []

    def handle(self, record: RecordedRequest, params: dict[str, str]) -> Reply:
        self._expire_finished()
        return super().handle(record, params)

    def _create_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        try:
            plan = translate_job(record.body or {})
        except Untranslatable as exc:
            self.refusals.append(str(exc))
            return Reply(422, invalid(((record.body or {}).get("metadata") or {}).get("name", ""), str(exc)))
        reply = super()._create_job(record, params, scripted)
        if reply.status == 201:
            self.pods[(params["ns"], reply.body["metadata"]["name"])] = self.kubelet.admit(reply.body, plan)
        return reply

    def _read_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        key = (params["ns"], params["name"])
        stored = self.jobs.get(key)
        if stored is None:
            return Reply(404, not_found("jobs", "batch", params["name"]))
        return Reply(200, {**stored, "status": self.kubelet.job_status(self.pods[key])})

    def _delete_job(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        reply = super()._delete_job(record, params, scripted)
        # batch/v1's REST default is to orphan the pod: it keeps running, as on a real cluster.
        propagation = (record.query.get("propagationPolicy") or ["Orphan"])[0]
        pod = self.pods.pop((params["ns"], params["name"]), None)
        if reply.status == 200 and pod is not None and propagation in CASCADING:
            self.kubelet.delete(pod)
        return reply

    def _list_pods(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        items = [self.kubelet.pod_object(p) for p in self._live_pods(params["ns"])]
        return Reply(200, _list("PodList", "v1", _select(items, record.query)))

    def _read_log(self, record: RecordedRequest, params: dict[str, str], scripted: Reply | None) -> Reply:
        pod = next((p for p in self._live_pods(params["ns"]) if p.name == params["name"]), None)
        if pod is None:
            return Reply(404, not_found("pods", "", params["name"]))
        limit = int(record.query["limitBytes"][0]) if "limitBytes" in record.query else None
        waiting = self.kubelet.not_started(pod)
        if waiting is not None:
            message = f'container "{pod.container}" in pod "{pod.name}" is waiting to start: {waiting}'
            return Reply(
                400, {**not_found("pods", "", pod.name), "reason": "BadRequest", "message": message, "code": 400}
            )
        try:
            log = self.kubelet.log(pod, limit)
        except Exception:  # the container was removed while we read: the pod is gone
            return Reply(404, not_found("pods", "", params["name"]))
        return Reply(200, text=log.decode("utf-8", "replace"))

    def _live_pods(self, namespace: str) -> list[Pod]:
        """Every pod not yet gone, orphans of Jobs deleted without cascading included."""
        return [p for p in self.kubelet.pods if p.namespace == namespace and not p.gone]

    def _expire_finished(self) -> None:
        """The TTL controller: a Job finished longer than ttlSecondsAfterFinished ago is deleted, pod and all."""
        now = time.monotonic()
        with self._lock:
            for key, pod in list(self.pods.items()):
                if pod.ttl_s is not None and pod.finished is not None and now - pod.finished > pod.ttl_s:
                    self.jobs.pop(key, None)
                    self.pods.pop(key)
                    self.kubelet.delete(pod)


def invalid(name: str, message: str) -> dict[str, Any]:
    """The Status the API server answers when validation (here: translation) refuses a Job."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f'Job.batch "{name}" is invalid: {message}',
        "reason": "Invalid",
        "details": {"name": name, "group": "batch", "kind": "Job"},
        "code": 422,
    }
