"""The Job object of one run: the runner image, locked down the way the docker sandbox is.

Built from the kubernetes client's own models, so a wrong field name or type fails here, not on the
API server. The request travels as data in one environment variable; the command is a fixed argv and
no shell ever sees anything of the request.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from csvanalyst.executors.base import RunRequest
from csvanalyst.executors.contract import KILL_GRACE_S, MEMORY_HEADROOM_MB, RUNNER_ARGV, mapped_request, table_mounts

RUNNER_UID = 10001  # the runner image's user (runner_image/)
CONTAINER = "runner"
NAME_PREFIX = "csvanalyst-run-"
RUN_LABEL = "csvanalyst.io/run"
MANAGED_BY = {"app.kubernetes.io/managed-by": "csvanalyst"}
FIXED_LABELS = {"app.kubernetes.io/name": "csvanalyst", "app.kubernetes.io/component": "runner", **MANAGED_BY}
REQUEST_ENV = "CSVANALYST_REQUEST"
DATASETS_VOLUME = "datasets"
TMP_VOLUME = "tmp"
MIN_TTL_S = 30  # a finished Job must outlive our last read of its pod's log
# Linux refuses a single environment string over 128 KiB (MAX_ARG_STRLEN): the pod would never start.
MAX_REQUEST_ENV_BYTES = 120 * 1024


class NotOnClaim(ValueError):
    """A table file lies outside the datasets root, so the claim a runner pod mounts does not hold it."""

    def __init__(self, path: str, root: str) -> None:
        super().__init__(path)
        self.path = path
        self.root = root


@dataclass(frozen=True)
class JobOptions:
    """Everything about a runner Job that does not come from the request."""

    namespace: str
    image: str
    datasets_pvc: str
    datasets_root: str
    image_pull_policy: str = "IfNotPresent"
    service_account: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    colocate_labels: Mapping[str, str] = field(default_factory=dict)
    start_timeout_s: float = 120.0
    ttl_s: int = 300
    tmp_mb: int = 256


def job_name(run_id: str) -> str:
    """A DNS-1123 label (<= 63 chars) known before the create call, so cleanup never depends on its reply."""
    return f"{NAME_PREFIX}{run_id}"[:63].rstrip("-")


def run_labels(run_id: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The fixed labels win over configured ones: the chart's NetworkPolicy selects runner pods by them."""
    return {**extra, **FIXED_LABELS, RUN_LABEL: run_id}


def request_env(request: RunRequest) -> str:
    """The request as the pod sees it (tables at their /data/<n>/<file> mount points), as JSON text."""
    return mapped_request(request).model_dump_json()


def subpaths(request: RunRequest, datasets_root: str) -> dict[str, str]:
    """Mount point -> path of the file relative to the claim's root; raises NotOnClaim for a foreign file."""
    root = os.path.realpath(datasets_root)
    found: dict[str, str] = {}
    for source, target in table_mounts(list(request.tables.values())).items():
        real = os.path.realpath(source)
        if os.path.commonpath([root, real]) != root or real == root:
            raise NotOnClaim(source, datasets_root)
        found[target] = PurePosixPath(os.path.relpath(real, root)).as_posix()
    return found


def build_job(request: RunRequest, run_id: str, options: JobOptions) -> Any:
    """The V1Job of one run; raises NotOnClaim when a table file is not on the datasets claim."""
    from kubernetes import client

    labels = run_labels(run_id, options.labels)
    limits = request.limits
    return client.V1Job(
        api_version="batch/v1",
        kind="Job",
        metadata=client.V1ObjectMeta(name=job_name(run_id), namespace=options.namespace, labels=labels),
        spec=client.V1JobSpec(
            backoff_limit=0,  # a failed run is reported, never retried behind the user's back
            # Counts from the Job's start, so it spans scheduling and pulling too; our own clock holds the
            # run itself to timeout_s. This is the backstop for a host that died mid-run.
            active_deadline_seconds=math.ceil(options.start_timeout_s + limits.timeout_s + KILL_GRACE_S),
            ttl_seconds_after_finished=max(MIN_TTL_S, options.ttl_s),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=_pod_spec(request, options, subpaths(request, options.datasets_root)),
            ),
        ),
    )


def _pod_spec(request: RunRequest, options: JobOptions, files: dict[str, str]) -> Any:
    from kubernetes import client

    return client.V1PodSpec(
        restart_policy="Never",
        automount_service_account_token=False,
        enable_service_links=False,
        service_account_name=options.service_account or None,
        termination_grace_period_seconds=1,
        security_context=client.V1PodSecurityContext(
            run_as_non_root=True,
            run_as_user=RUNNER_UID,
            run_as_group=RUNNER_UID,
            fs_group=RUNNER_UID,
            fs_group_change_policy="OnRootMismatch",
            seccomp_profile=client.V1SeccompProfile(type="RuntimeDefault"),
        ),
        containers=[_container(request, options, files)],
        volumes=_volumes(options, bool(files)),
        affinity=_affinity(options.colocate_labels),
    )


def _container(request: RunRequest, options: JobOptions, files: dict[str, str]) -> Any:
    from kubernetes import client

    limits = request.limits
    size = {"cpu": str(max(1, limits.threads)), "memory": f"{limits.memory_mb + MEMORY_HEADROOM_MB}Mi"}
    mounts = [client.V1VolumeMount(name=TMP_VOLUME, mount_path="/tmp")]
    mounts += [
        client.V1VolumeMount(name=DATASETS_VOLUME, mount_path=target, sub_path=sub, read_only=True)
        for target, sub in files.items()
    ]
    return client.V1Container(
        name=CONTAINER,
        image=options.image,
        image_pull_policy=options.image_pull_policy,
        command=list(RUNNER_ARGV),
        env=[
            client.V1EnvVar(name=REQUEST_ENV, value=request_env(request)),
            client.V1EnvVar(name="CSVANALYST_SANDBOX", value="kubernetes"),
            client.V1EnvVar(name="CSVANALYST_SCRATCH", value="/tmp/spill"),
        ],
        resources=client.V1ResourceRequirements(requests=size, limits=size),
        security_context=client.V1SecurityContext(
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            privileged=False,
            run_as_non_root=True,
            capabilities=client.V1Capabilities(drop=["ALL"]),
        ),
        volume_mounts=mounts,
    )


def _volumes(options: JobOptions, with_datasets: bool) -> list[Any]:
    from kubernetes import client

    volumes = [
        client.V1Volume(
            name=TMP_VOLUME, empty_dir=client.V1EmptyDirVolumeSource(medium="Memory", size_limit=f"{options.tmp_mb}Mi")
        )
    ]
    if with_datasets:
        claim = client.V1PersistentVolumeClaimVolumeSource(claim_name=options.datasets_pvc, read_only=True)
        volumes.append(client.V1Volume(name=DATASETS_VOLUME, persistent_volume_claim=claim))
    return volumes


def _affinity(colocate: Mapping[str, str]) -> Any:
    """A ReadWriteOnce claim is readable only on the node that mounts it: run beside that pod."""
    from kubernetes import client

    if not colocate:
        return None
    term = client.V1PodAffinityTerm(
        label_selector=client.V1LabelSelector(match_labels=dict(colocate)), topology_key="kubernetes.io/hostname"
    )
    return client.V1Affinity(
        pod_affinity=client.V1PodAffinity(required_during_scheduling_ignored_during_execution=[term])
    )
