"""The Kubernetes sandbox: each run is one Job of the runner image, followed to its end and deleted.

A pod never serves two runs, so `keep_warm` is accepted (Session and the server pass it) and ignored:
the isolation story is one fresh, locked-down pod per query. The pod runs as uid 10001 with a
read-only root, no capabilities, no privilege escalation, the RuntimeDefault seccomp profile, no
service-account token, and mounts exactly the run's table files read-only from the datasets claim.
Network isolation comes from the cluster: the Helm chart's NetworkPolicy denies runner pods all
traffic, which holds only where the CNI enforces NetworkPolicy.

The result travels through the pod's log. The kubelet rotates container logs (10 MiB by default) and
the logs API then serves only the newest file, so this backend caps max_output_bytes at
MAX_OUTPUT_BYTES; the runner shrinks its result to fit, exactly as it does under the other backends.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from csvanalyst.catalog.schema import TableSource
from csvanalyst.errors import EnvironmentProblem
from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.contract import to_result
from csvanalyst.executors.kubernetes.config import connect, diagnose, host_of, probe_cluster
from csvanalyst.executors.kubernetes.errors import (
    CREATE_JOB,
    DELETE_JOB,
    LIST_JOBS,
    KubeFailure,
    from_api,
    never_sent,
    status_of,
)
from csvanalyst.executors.kubernetes.job import (
    FIXED_LABELS,
    MANAGED_BY,
    MAX_REQUEST_ENV_BYTES,
    JobOptions,
    NotOnClaim,
    build_job,
    request_env,
)
from csvanalyst.executors.kubernetes.watch import CALL_TIMEOUT_S, Target, Watch

__all__ = ["MAX_OUTPUT_BYTES", "KubernetesExecutor", "cleanup", "diagnose"]

log = logging.getLogger(__name__)

MAX_OUTPUT_BYTES = 8 * 1024 * 1024  # below the kubelet's default 10 MiB log rotation, with room for stderr
NO_PVC_HINT = (
    "Set CSVANALYST_K8S_DATASETS_PVC to the PersistentVolumeClaim holding the dataset cache (the Helm chart "
    "does), or use --sandbox local or docker for files on this machine."
)


class KubernetesExecutor(ClosingExecutor):
    """Runs each request as one Kubernetes Job; arguments left None come from the settings."""

    name = "kubernetes"
    isolation = "pod"

    def __init__(
        self,
        namespace: str | None = None,
        image: str | None = None,
        datasets_pvc: str | None = None,
        datasets_root: str | None = None,
        context: str | None = None,
        service_account: str | None = None,
        labels: Mapping[str, str] | None = None,
        colocate_labels: Mapping[str, str] | None = None,
        start_timeout_s: float | None = None,
        ttl_s: int | None = None,
        image_pull_policy: str | None = None,
        keep_warm: bool = False,
        api_client: Any = None,
        poll_s: float = 0.5,
    ) -> None:
        from csvanalyst.config import get_settings

        settings = get_settings()
        implied = None
        self._owns_client = api_client is None  # closed with the executor; a client given is the caller's
        if api_client is None:
            connection = connect(context or settings.k8s_context)
            api_client, implied = connection.api_client, connection.namespace
        self.api_client = api_client
        self.host = host_of(api_client)
        self.poll_s = poll_s
        pvc = datasets_pvc or settings.k8s_datasets_pvc
        if not pvc:
            self.close()
            raise EnvironmentProblem("The kubernetes sandbox has no datasets claim configured.", hint=NO_PVC_HINT)
        self.options = JobOptions(
            namespace=namespace or settings.k8s_namespace or implied or "default",
            image=image or settings.k8s_image or _default_image(),
            datasets_pvc=pvc,
            datasets_root=str(datasets_root or settings.k8s_datasets_root or settings.cache_dir),
            image_pull_policy=image_pull_policy or settings.k8s_image_pull_policy,
            service_account=service_account if service_account is not None else settings.k8s_service_account,
            labels=dict(labels if labels is not None else settings.k8s_labels),
            colocate_labels=dict(colocate_labels if colocate_labels is not None else settings.k8s_colocate_labels),
            start_timeout_s=start_timeout_s if start_timeout_s is not None else settings.k8s_start_timeout_s,
            ttl_s=ttl_s if ttl_s is not None else settings.k8s_ttl_s,
        )

    @property
    def namespace(self) -> str:
        return self.options.namespace

    def close(self) -> None:
        """The client's pooled connections, when this executor made the client."""
        if self._owns_client:
            self.api_client.close()

    def ready(self) -> str:
        """ "ok" while the API answers and this identity may create Jobs, else why not (the server's /readyz)."""
        _, problem = probe_cluster(self.api_client, self.namespace)
        return problem or "ok"

    def prepare(self, tables: Sequence[TableSource], limits: Limits) -> None:
        """Nothing to start ahead: a Job is created for the run itself (keep_warm is not offered)."""

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """Run one request; setting `cancel` deletes the Job and ends the run as cancelled."""
        started = time.perf_counter()
        request = capped(request)
        try:
            result = self._run(request, cancel)
        except KubeFailure as failure:
            result = failure.result()
        result.executor = self.name
        result.timings = {**result.timings, "total_ms": round((time.perf_counter() - started) * 1000, 3)}
        return result

    def _run(self, request: RunRequest, cancel: threading.Event | None) -> RunResult:
        from kubernetes import client

        run_id = secrets.token_hex(6)
        job = self._job(request, run_id)
        name = job.metadata.name
        delete = True
        try:
            try:
                client.BatchV1Api(self.api_client).create_namespaced_job(
                    self.namespace, job, _request_timeout=CALL_TIMEOUT_S
                )
            except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
                status = status_of(exc)
                # a 4xx or no connection at all is a definite "not created"; a timeout or 5xx may have created it
                delete = (status is None and not never_sent(exc)) or (status is not None and status >= 500)
                raise from_api(exc, CREATE_JOB, self.namespace, self.host) from exc
            target = Target(self.namespace, name, run_id, self.options.image, self.host)
            watch = Watch(
                self.api_client,
                target,
                request.limits,
                start_timeout_s=self.options.start_timeout_s,
                poll_s=self.poll_s,
                cancel=cancel,
            )
            outcome = watch.follow()
        finally:
            if delete:
                delete_job(self.api_client, self.namespace, name)
        return to_result(outcome, request)

    def _job(self, request: RunRequest, run_id: str) -> Any:
        try:
            job = build_job(request, run_id, self.options)
        except NotOnClaim as exc:
            raise KubeFailure(
                "table_not_on_claim",
                f"The table file {exc.path} is not on the datasets claim {self.options.datasets_pvc} "
                f"(mounted here at {exc.root}), so a runner pod cannot read it.",
                "Register the dataset through the server (it stores datasets on the claim), "
                "or use --sandbox local or docker for files on this machine.",
            ) from exc
        if len(request_env(request).encode("utf-8")) > MAX_REQUEST_ENV_BYTES:
            raise KubeFailure(
                "request_too_large",
                f"The request is larger than the {MAX_REQUEST_ENV_BYTES} bytes a pod's environment can carry.",
                "Send shorter code.",
            )
        return job


def capped(request: RunRequest) -> RunRequest:
    """The request with max_output_bytes within what a pod log reliably carries."""
    limits = request.limits
    if limits.max_output_bytes <= MAX_OUTPUT_BYTES:
        return request
    return request.model_copy(update={"limits": limits.model_copy(update={"max_output_bytes": MAX_OUTPUT_BYTES})})


def delete_job(api_client: Any, namespace: str, name: str) -> bool:
    """Delete a Job and (in the background) its pod; False when that failed (its TTL removes it later)."""
    from kubernetes import client

    try:
        client.BatchV1Api(api_client).delete_namespaced_job(
            name, namespace, propagation_policy="Background", _request_timeout=CALL_TIMEOUT_S
        )
    except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
        if status_of(exc) == 404:
            return True
        failure = from_api(exc, DELETE_JOB, namespace, host_of(api_client))
        log.warning("runner Job %s/%s not deleted: %s", namespace, name, failure.message)
        return False
    return True


def cleanup(namespace: str | None = None, *, api_client: Any = None, context: str | None = None) -> int:
    """Delete every runner Job this program left in `namespace` (e.g. after a crash); returns how many."""
    from kubernetes import client

    from csvanalyst.config import get_settings

    settings = get_settings()
    if api_client is None:
        connection = connect(context or settings.k8s_context)
        with contextlib.closing(connection.api_client):
            return cleanup(
                namespace or settings.k8s_namespace or connection.namespace, api_client=connection.api_client
            )
    namespace = namespace or settings.k8s_namespace or "default"
    component = FIXED_LABELS["app.kubernetes.io/component"]
    selector = ",".join(f"{k}={v}" for k, v in {**MANAGED_BY, "app.kubernetes.io/component": component}.items())
    try:
        jobs = client.BatchV1Api(api_client).list_namespaced_job(
            namespace, label_selector=selector, _request_timeout=CALL_TIMEOUT_S
        )
    except Exception as exc:  # the client raises ApiException, urllib3 and socket errors alike
        failure = from_api(exc, LIST_JOBS, namespace, host_of(api_client))
        raise EnvironmentProblem(failure.message, hint=failure.hint) from exc
    names = [job.metadata.name for job in jobs.items or [] if job.metadata is not None and job.metadata.name]
    return sum(delete_job(api_client, namespace, name) for name in names)


def _default_image() -> str:
    from csvanalyst.executors.docker import image as docker_image

    return docker_image.image_tag()
