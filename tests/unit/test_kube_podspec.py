"""The stand-in kubelet's reading of a pod spec: what it reproduces, and that it refuses what it does not.

No Docker needed: the Job is the one the executor builds, serialised exactly as the client sends it.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest
from csvanalyst.executors.contract import RUNNER_ARGV
from csvanalyst.executors.kubernetes.job import JobOptions, build_job

pytest.importorskip("kubernetes", reason="the kubernetes client is not installed")

from tests.support.kube_podspec import Untranslatable, quantity, translate_job


@pytest.fixture
def job(tmp_path: Path) -> dict[str, Any]:
    from kubernetes import client

    (tmp_path / "ab12").mkdir()
    (tmp_path / "ab12" / "sales.csv").write_text("a\n1\n")
    tables = {"sales": TableSource(path=str(tmp_path / "ab12" / "sales.csv"), format="csv")}
    request = RunRequest(code="SELECT 1", tables=tables, limits=Limits(memory_mb=512, threads=2))
    options = JobOptions(namespace="ns", image="runner:1", datasets_pvc="data", datasets_root=str(tmp_path))
    return client.ApiClient().sanitize_for_serialization(build_job(request, "abc", options))


def pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["template"]["spec"]


def test_the_executors_job_is_reproduced_field_by_field(job: dict[str, Any]) -> None:
    plan = translate_job(job)
    assert plan.command == RUNNER_ARGV and plan.args is None
    assert set(plan.env) == {"CSVANALYST_REQUEST", "CSVANALYST_SANDBOX", "CSVANALYST_SCRATCH"}
    assert (plan.run_as_user, plan.run_as_group, plan.run_as_non_root) == (10001, 10001, True)
    assert plan.read_only and plan.no_new_privileges and plan.cap_drop == ["ALL"] and not plan.privileged
    assert not plan.seccomp_unconfined and plan.group_add == ["10001"]
    assert plan.mem_bytes == (512 + 512) * 2**20 and plan.nano_cpus == 2 * 10**9
    assert plan.tmpfs == {"/tmp": f"rw,exec,size={256 * 2**20},mode=0777"}
    ((claim),) = plan.claims
    assert (claim.claim, claim.sub_path, claim.target, claim.read_only) == (
        "data",
        "ab12/sales.csv",
        "/data/0/sales.csv",
        True,
    )
    assert plan.grace_s == 1 and plan.pull_policy == "IfNotPresent"


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        (("hostNetwork",), True, "hostNetwork"),
        (("automountServiceAccountToken",), True, "automountServiceAccountToken"),
        (("enableServiceLinks",), True, "enableServiceLinks"),
        (("containers", 0, "ports"), [{"containerPort": 80}], "ports"),
        (("containers", 0, "env", 0, "valueFrom"), {"secretKeyRef": {"name": "s", "key": "k"}}, "valueFrom"),
        (("containers", 0, "securityContext", "seLinuxOptions"), {"level": "s0"}, "seLinuxOptions"),
        (("containers", 0, "resources", "limits", "nvidia.com/gpu"), "1", "nvidia.com/gpu"),
        (("containers", 0, "volumeMounts", 1, "subPath"), "../escape", "subPath"),
        (("securityContext", "seccompProfile"), {"type": "Localhost", "localhostProfile": "x"}, "localhostProfile"),
        (("volumes", 0, "emptyDir", "medium"), "", "medium Memory"),
        (("restartPolicy",), "OnFailure", "restartPolicy"),
    ],
)
def test_anything_not_reproduced_is_refused(job: dict[str, Any], path: tuple[Any, ...], value: Any, named: str) -> None:
    changed = copy.deepcopy(job)
    target = pod(changed)
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(Untranslatable, match=named):
        translate_job(changed)


def test_job_level_fields_are_checked_too(job: dict[str, Any]) -> None:
    for key, value in (("backoffLimit", 3), ("parallelism", 2), ("podFailurePolicy", {"rules": []})):
        changed = copy.deepcopy(job)
        changed["spec"][key] = value
        with pytest.raises(Untranslatable):
            translate_job(changed)


def test_container_security_context_wins_and_no_profile_means_unconfined(job: dict[str, Any]) -> None:
    changed = copy.deepcopy(job)
    pod(changed)["containers"][0]["securityContext"].update(runAsUser=20002, runAsNonRoot=False)
    del pod(changed)["securityContext"]["seccompProfile"]
    plan = translate_job(changed)
    assert (plan.run_as_user, plan.run_as_group, plan.run_as_non_root) == (20002, 10001, False)
    assert plan.seccomp_unconfined


@pytest.mark.parametrize(("text", "value"), [("512Mi", 512 * 2**20), ("1", 1), ("500m", 0.5), ("1G", 10**9), (2, 2)])
def test_quantities(text: Any, value: float) -> None:
    assert quantity(text) == value
