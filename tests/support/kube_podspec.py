"""A Job's pod spec read field by field into the arguments of one Docker container, or refused.

Every field the API server stored is either translated into what a kubelet would make of it, named
here as pure scheduling metadata (it changes where a pod runs, not what runs), or refused with
Untranslatable: a field this module does not know must never be silently dropped, or a test could
pass for a pod a real kubelet would run differently. The stand-in's network is `none`, standing for
the Helm chart's deny-all NetworkPolicy; Docker's default seccomp profile stands for RuntimeDefault.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

SCHEDULING_ONLY = {"affinity", "serviceAccountName"}
IDENTITY = ("runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile")
QUANTITY = re.compile(r"^(?P<number>[0-9.]+)(?P<suffix>[a-zA-Z]*)$")
SUFFIXES = {
    "": 1,
    "m": 0.001,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


class Untranslatable(ValueError):
    """A field (or value) the stand-in cannot reproduce; the API server answers 422 naming it."""


@dataclass(frozen=True)
class ClaimMount:
    """One volumeMount of a persistentVolumeClaim volume; resolved against the claim's root at start."""

    claim: str
    sub_path: str
    target: str
    read_only: bool
    volume_read_only: bool  # the claim itself is mounted read-only on the node: the kubelet cannot mkdir in it


@dataclass
class ContainerPlan:
    """Everything the stand-in kubelet needs to start the pod's one container."""

    image: str
    pull_policy: str
    command: list[str] | None
    args: list[str] | None
    env: dict[str, str]
    working_dir: str | None
    run_as_user: int | None
    run_as_group: int | None
    run_as_non_root: bool
    group_add: list[str]
    read_only: bool
    privileged: bool
    cap_drop: list[str]
    cap_add: list[str]
    no_new_privileges: bool
    seccomp_unconfined: bool
    mem_bytes: int | None
    nano_cpus: int | None
    tmpfs: dict[str, str] = field(default_factory=dict)
    claims: list[ClaimMount] = field(default_factory=list)
    grace_s: int = 30


def _only(obj: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise Untranslatable(f"{where}: {', '.join(extra)} not translated by the stand-in kubelet")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise Untranslatable(message)


def quantity(text: str | int | float) -> float:
    """A Kubernetes resource quantity (`512Mi`, `1`, `500m`, `1G`) as a number."""
    match = QUANTITY.match(str(text))
    if match is None or match["suffix"] not in SUFFIXES:
        raise Untranslatable(f"resource quantity {text!r} not understood")
    return float(match["number"]) * SUFFIXES[match["suffix"]]


def translate_job(job: Mapping[str, Any]) -> ContainerPlan:
    """The container plan of a Job's pod; raises Untranslatable for anything not reproduced."""
    _only(job.get("metadata") or {}, "metadata", {"name", "namespace", "labels"})
    spec = job.get("spec") or {}
    _only(spec, "spec", {"backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished", "template"})
    _require(spec.get("backoffLimit") == 0, "spec.backoffLimit: only 0 (one pod, no retries) is reproduced")
    template = spec.get("template") or {}
    _only(template, "spec.template", {"metadata", "spec"})
    _only(template.get("metadata") or {}, "spec.template.metadata", {"labels"})
    return translate_pod(template.get("spec") or {})


def translate_pod(pod: Mapping[str, Any]) -> ContainerPlan:
    where = "spec.template.spec"
    allowed = {
        "containers",
        "volumes",
        "securityContext",
        "restartPolicy",
        "automountServiceAccountToken",
        "enableServiceLinks",
        "terminationGracePeriodSeconds",
        *SCHEDULING_ONLY,
    }
    _only(pod, where, allowed)
    _require(pod.get("restartPolicy") == "Never", f"{where}.restartPolicy: only Never is reproduced")
    _require(
        pod.get("automountServiceAccountToken") is False,
        f"{where}.automountServiceAccountToken: a token would be mounted; the stand-in refuses to start such a pod",
    )
    _require(pod.get("enableServiceLinks") is False, f"{where}.enableServiceLinks: service env vars not reproduced")
    containers = pod.get("containers") or []
    _require(len(containers) == 1, f"{where}.containers: exactly one container is reproduced")
    volumes = _volumes(pod.get("volumes") or [], where)
    plan = _container(containers[0], volumes, f"{where}.containers[0]")
    _pod_security(plan, pod.get("securityContext") or {}, f"{where}.securityContext")
    _identity(plan, pod.get("securityContext") or {}, containers[0].get("securityContext") or {}, where)
    plan.grace_s = int(pod.get("terminationGracePeriodSeconds", 30))
    return plan


def _volumes(volumes: list[Mapping[str, Any]], where: str) -> dict[str, Mapping[str, Any]]:
    found: dict[str, Mapping[str, Any]] = {}
    for index, volume in enumerate(volumes):
        here = f"{where}.volumes[{index}]"
        _only(volume, here, {"name", "emptyDir", "persistentVolumeClaim"})
        _require(("emptyDir" in volume) != ("persistentVolumeClaim" in volume), f"{here}: one source per volume")
        if "emptyDir" in volume:
            _only(volume["emptyDir"], f"{here}.emptyDir", {"medium", "sizeLimit"})
            _require(volume["emptyDir"].get("medium") == "Memory", f"{here}.emptyDir: only medium Memory (tmpfs)")
        else:
            _only(volume["persistentVolumeClaim"], f"{here}.persistentVolumeClaim", {"claimName", "readOnly"})
        found[volume["name"]] = volume
    return found


def _container(container: Mapping[str, Any], volumes: dict[str, Mapping[str, Any]], where: str) -> ContainerPlan:
    allowed = {
        "name",
        "image",
        "imagePullPolicy",
        "command",
        "args",
        "env",
        "workingDir",
        "resources",
        "securityContext",
        "volumeMounts",
        "terminationMessagePath",
        "terminationMessagePolicy",
    }
    _only(container, where, allowed)
    _require(container.get("terminationMessagePath", "/dev/termination-log") == "/dev/termination-log", where)
    _require(container.get("terminationMessagePolicy", "File") == "File", f"{where}.terminationMessagePolicy")
    image = container["image"]
    default_policy = "Always" if image.endswith(":latest") or ":" not in image.rsplit("/", 1)[-1] else "IfNotPresent"
    mem, cpus = _limits(container.get("resources") or {}, f"{where}.resources")
    plan = ContainerPlan(
        image=image,
        pull_policy=container.get("imagePullPolicy") or default_policy,
        command=container.get("command"),
        args=container.get("args"),
        env=_env(container.get("env") or [], f"{where}.env"),
        working_dir=container.get("workingDir"),
        run_as_user=None,
        run_as_group=None,
        run_as_non_root=False,
        group_add=[],
        read_only=False,
        privileged=False,
        cap_drop=[],
        cap_add=[],
        no_new_privileges=False,
        seccomp_unconfined=False,
        mem_bytes=mem,
        nano_cpus=cpus,
    )
    _container_security(plan, container.get("securityContext") or {}, f"{where}.securityContext")
    for index, mount in enumerate(container.get("volumeMounts") or []):
        _mount(plan, mount, volumes, f"{where}.volumeMounts[{index}]")
    return plan


def _env(env: list[Mapping[str, Any]], where: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, var in enumerate(env):
        _only(var, f"{where}[{index}]", {"name", "value"})
        values[var["name"]] = str(var.get("value", ""))
    return values


def _limits(resources: Mapping[str, Any], where: str) -> tuple[int | None, int | None]:
    """Limits become cgroup limits; requests only steer the scheduler."""
    _only(resources, where, {"limits", "requests"})
    limits = resources.get("limits") or {}
    _only(limits, f"{where}.limits", {"cpu", "memory"})
    mem = int(quantity(limits["memory"])) if "memory" in limits else None
    cpus = int(quantity(limits["cpu"]) * 1e9) if "cpu" in limits else None
    return mem, cpus


def _container_security(plan: ContainerPlan, context: Mapping[str, Any], where: str) -> None:
    allowed = {
        "readOnlyRootFilesystem",
        "allowPrivilegeEscalation",
        "privileged",
        "runAsNonRoot",
        "runAsUser",
        "runAsGroup",
        "capabilities",
        "seccompProfile",
    }
    _only(context, where, allowed)
    plan.read_only = bool(context.get("readOnlyRootFilesystem", False))
    plan.privileged = bool(context.get("privileged", False))
    # The kubelet leaves no_new_privs unset unless allowPrivilegeEscalation is explicitly false.
    plan.no_new_privileges = context.get("allowPrivilegeEscalation") is False
    capabilities = context.get("capabilities") or {}
    _only(capabilities, f"{where}.capabilities", {"drop", "add"})
    plan.cap_drop, plan.cap_add = list(capabilities.get("drop") or []), list(capabilities.get("add") or [])


def _pod_security(plan: ContainerPlan, context: Mapping[str, Any], where: str) -> None:
    """Supplemental groups and fsGroup; the identity keys are merged with the container's in _identity."""
    allowed = {
        "runAsNonRoot",
        "runAsUser",
        "runAsGroup",
        "fsGroup",
        "fsGroupChangePolicy",
        "supplementalGroups",
        "seccompProfile",
    }
    _only(context, where, allowed)
    groups = [*(context.get("supplementalGroups") or []), *([context["fsGroup"]] if "fsGroup" in context else [])]
    plan.group_add = [str(g) for g in groups]
    # fsGroupChangePolicy governs the kubelet's chown of volumes that support ownership management; a
    # hostPath-like PV (the claim roots here, kind's local-path) does not, and the tmpfs is mode 0777.


def _identity(plan: ContainerPlan, pod: Mapping[str, Any], container: Mapping[str, Any], where: str) -> None:
    """The container's own securityContext wins over the pod's, key by key."""
    merged = {**{k: pod[k] for k in IDENTITY if k in pod}, **{k: container[k] for k in IDENTITY if k in container}}
    plan.run_as_user = int(merged["runAsUser"]) if "runAsUser" in merged else None
    plan.run_as_group = int(merged["runAsGroup"]) if "runAsGroup" in merged else None
    plan.run_as_non_root = bool(merged.get("runAsNonRoot", False))
    profile = merged.get("seccompProfile") or {}
    _only(profile, f"{where}.seccompProfile", {"type"})
    kind = profile.get("type", "Unconfined")  # the kubelet's default (seccompDefault off) is no filter at all
    _require(kind in ("RuntimeDefault", "Unconfined"), f"{where}.seccompProfile: type {kind} not reproduced")
    plan.seccomp_unconfined = kind == "Unconfined"


def _mount(plan: ContainerPlan, mount: Mapping[str, Any], volumes: dict[str, Mapping[str, Any]], where: str) -> None:
    _only(mount, where, {"name", "mountPath", "subPath", "readOnly"})
    volume = volumes.get(mount["name"])
    _require(volume is not None, f"{where}: no volume named {mount['name']}")
    assert volume is not None
    sub = mount.get("subPath", "")
    # What the API server's validation refuses, before any kubelet sees it.
    _require(not sub.startswith("/") and ".." not in PurePosixPath(sub).parts, f"{where}.subPath: {sub!r} invalid")
    if "emptyDir" in volume:
        _require(not sub, f"{where}.subPath on an emptyDir is not reproduced")
        size = volume["emptyDir"].get("sizeLimit")
        size_opt = f",size={int(quantity(size))}" if size else ""
        plan.tmpfs[mount["mountPath"]] = f"rw,exec{size_opt},mode=0777"  # an emptyDir is created mode 0777
        return
    claim = volume["persistentVolumeClaim"]
    volume_read_only = bool(claim.get("readOnly"))
    read_only = bool(mount.get("readOnly")) or volume_read_only
    plan.claims.append(ClaimMount(claim["claimName"], sub, mount["mountPath"], read_only, volume_read_only))
