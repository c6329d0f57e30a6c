"""The container sandbox: each run in a fresh, locked-down container of the runner image.

What a run can touch: its own tables (bind-mounted read-only, nothing else of the host), a small
tmpfs at /tmp, no network at all, a read-only root filesystem, an unprivileged user with every
capability dropped and no-new-privileges, and pids/memory/CPU limits enforced by the kernel's cgroups.
The host kills and removes the container at the deadline or when stdout passes its cap. Containers
carry a label so any left behind by a crashed host are found by `csvanalyst runner cleanup`.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from typing import Any

from csvanalyst.executors.base import ClosingExecutor, Limits, RunRequest, RunResult
from csvanalyst.executors.contract import (
    KILL_GRACE_S,
    MEMORY_HEADROOM_MB,
    RUNNER_ARGV,
    STDOUT_MARGIN,
    Outcome,
    mapped_request,
    table_mounts,
    to_result,
)
from csvanalyst.executors.docker import image as docker_image
from csvanalyst.executors.docker.io import Cancelled, Deadline, Overflow, Stream, remove

LABEL = docker_image.LABEL
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"  # the SDK's default without DOCKER_HOST
HOME_LABEL = "csvanalyst.home"


def connect() -> Any:
    """A client for a daemon that answers, or a clear error saying how to get one."""
    from csvanalyst.errors import EnvironmentProblem

    try:
        import docker
    except ImportError as exc:
        raise EnvironmentProblem(
            "The docker sandbox needs the Docker SDK for Python.", hint="Run `pip install docker`."
        ) from exc
    problem = _unix_socket_problem()
    if problem is not None:
        raise EnvironmentProblem(
            f"The Docker daemon is not reachable: {problem}",
            hint="Start Docker (e.g. `dockerd &`) or set DOCKER_HOST; or use --sandbox local.",
        )
    client = None
    try:
        client = docker.from_env(timeout=30)
        client.ping()
    except Exception as exc:  # the SDK raises DockerException, requests and socket errors alike
        if client is not None:
            client.close()
        raise EnvironmentProblem(
            f"The Docker daemon is not reachable: {_first_line(exc)}",
            hint="Start Docker (e.g. `dockerd &`) or set DOCKER_HOST; or use --sandbox local.",
        ) from exc
    return client


def _unix_socket_problem() -> str | None:
    """Why the daemon's Unix socket does not accept a connection, or None (also for a TCP DOCKER_HOST).

    Tried here first because the SDK leaves its socket open when that connect fails."""
    import socket

    host = os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
    if not host.startswith("unix://"):
        return None
    path = host.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(5)
        try:
            probe.connect(path)
        except OSError as exc:
            return f"{path}: {exc.strerror or exc}"
    return None


def require_image(client: Any, tag: str) -> None:
    import docker.errors

    from csvanalyst.errors import EnvironmentProblem

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound as exc:
        raise EnvironmentProblem(
            f"The runner image {tag} is not built (or was built from other runner code).",
            hint="Run `csvanalyst runner build` (or `make runner-image`); it needs no registry.",
        ) from exc


class DockerExecutor(ClosingExecutor):
    """Runs each request in its own container; with keep_warm, in a pre-started worker of a pool."""

    name = "docker"
    isolation = "container"

    def __init__(
        self,
        image: str | None = None,
        *,
        keep_warm: bool = False,
        pool_size: int = 1,
        max_runs: int = 50,
        idle_s: float = 300.0,
        tmpfs_mb: int = 256,
        pids: int = 64,
    ) -> None:
        self.client = connect()
        self.image = image or docker_image.image_tag()
        try:
            require_image(self.client, self.image)
        except BaseException:
            self.client.close()
            raise
        self.tmpfs_mb = tmpfs_mb
        self.pids = pids
        sweep_orphans(self.client)  # warm workers of a server killed with -9 on this home
        self.pool = None
        if keep_warm:
            from csvanalyst.executors.docker.pool import WarmPool

            self.pool = WarmPool(self, size=pool_size, max_runs=max_runs, idle_s=idle_s)

    def ready(self) -> str:
        """ "ok" while the daemon answers and still has the runner image, else why not."""
        from csvanalyst.errors import CsvAnalystError

        try:
            self.client.ping()
        except Exception as exc:  # the SDK raises DockerException, requests and socket errors alike
            return f"The Docker daemon is not reachable: {_first_line(exc)}"
        try:
            require_image(self.client, self.image)
        except CsvAnalystError as exc:
            return exc.message
        return "ok"

    def run(self, request: RunRequest, cancel: threading.Event | None = None) -> RunResult:
        """Run one request; setting `cancel` kills its container (freeing its slot) and ends it as cancelled."""
        started = time.perf_counter()
        payload = mapped_request(request).model_dump_json().encode("utf-8")
        if self.pool is not None:
            outcome = self.pool.run(request, payload, cancel)
        else:
            outcome = self.spawn(None, payload, request, cancel)
        result = to_result(outcome, request)
        result.executor = self.name
        result.timings = {**result.timings, "total_ms": round((time.perf_counter() - started) * 1000, 3)}
        return result

    def prepare(self, tables: Sequence[Any], limits: Limits) -> None:
        """With a pool, start the dataset's worker while the host checks the query."""
        if self.pool is not None:
            self.pool.prestart(list(tables), limits)

    def spawn(
        self, argv: Sequence[str] | None, payload: bytes, request: RunRequest, cancel: threading.Event | None = None
    ) -> Outcome:
        """Run argv (None: the runner) in a fresh container, feed payload, collect within the deadline."""
        limits = request.limits
        container = self.create(argv, list(request.tables.values()), limits, once=True)
        try:
            stream = Stream(
                self.client.api.attach_socket(container.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}),
                cancel,
            )
            try:
                return self._collect(container, stream, payload, limits)
            finally:
                stream.close()
        finally:
            remove(container)

    def _collect(self, container: Any, stream: Stream, payload: bytes, limits: Limits) -> Outcome:
        began = time.perf_counter()
        container.start()
        stream.send(payload, close=True)
        deadline = time.perf_counter() + limits.timeout_s + KILL_GRACE_S
        outcome = Outcome(returncode=None, stdout=b"", stderr=b"")
        try:
            stream.read_to_eof(deadline, limits.max_output_bytes + STDOUT_MARGIN)
        except Deadline:
            outcome.timed_out = True
        except Overflow:
            outcome.overflow = True
        except Cancelled:
            outcome.cancelled = True
        if not (outcome.timed_out or outcome.overflow or outcome.cancelled):
            outcome.returncode = exit_code(container, deadline)
        outcome.stdout, outcome.stderr = bytes(stream.stdout), bytes(stream.stderr)
        outcome.elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
        return outcome

    def create(self, argv: Sequence[str] | None, tables: list[Any], limits: Limits, *, once: bool) -> Any:
        """A created (not started) container with every restriction, mounting exactly these tables."""
        from docker.types import LogConfig, Mount, Ulimit

        mounts = [
            Mount(target, source, type="bind", read_only=True)
            for source, target in table_mounts(tables).items()
            if os.path.isfile(source)
        ]
        memory = f"{limits.memory_mb + MEMORY_HEADROOM_MB}m"
        api = self.client.api
        host_config = api.create_host_config(
            network_mode="none",
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            pids_limit=self.pids,
            mem_limit=memory,
            memswap_limit=memory,
            nano_cpus=int(max(1, limits.threads) * 1e9),
            tmpfs={"/tmp": f"rw,nosuid,nodev,noexec,size={self.tmpfs_mb}m,mode=1777"},
            mounts=mounts,
            log_config=LogConfig(type="none"),
            ulimits=[Ulimit(name="nofile", soft=256, hard=256), Ulimit(name="core", soft=0, hard=0)],
            ipc_mode="none",
        )
        config = api.create_container_config(
            self.image,
            None,
            entrypoint=list(argv) if argv else RUNNER_ARGV,
            stdin_open=True,
            network_disabled=True,
            user="10001:10001",
            environment={
                "CSVANALYST_SCRATCH": "/tmp/spill",
                "CSVANALYST_SANDBOX": "docker",
                "CSVANALYST_PRIVATE_TMP": "/tmp",
            },
            labels=owner_labels(),
            hostname="sandbox",
            host_config=host_config,
        )
        config["StdinOnce"] = once  # the SDK has no argument for it: stdin closes after our request
        created = api.create_container_from_config(config)
        return self.client.containers.get(created["Id"])

    def close(self) -> None:
        """The warm workers, then the client's pooled connections to the daemon."""
        if self.pool is not None:
            self.pool.close()
        self.client.close()


def exit_code(container: Any, deadline: float) -> int | None:
    """The exit status in local terms: an OOM kill or a signal as a negative signal number."""
    try:
        status = container.wait(timeout=max(1.0, deadline - time.perf_counter()))
        container.reload()
    except Exception:
        return None
    state = container.attrs.get("State", {})
    if state.get("OOMKilled"):
        return -signal.SIGKILL
    code = int(status.get("StatusCode", -1))
    return -(code - 128) if code > 128 else code


def home_tag() -> str:
    """Identifies this CSVANALYST_HOME on the host, so cleanup never touches another user's containers."""
    import hashlib

    from csvanalyst.config import get_settings

    return hashlib.blake2b(str(get_settings().home.resolve()).encode(), digest_size=8).hexdigest()


def owner_labels() -> dict[str, str]:
    from csvanalyst.store.owners import this_process

    owner = this_process()
    return {
        LABEL: "run",
        HOME_LABEL: home_tag(),
        "csvanalyst.host": owner.host,
        "csvanalyst.host_pid": str(owner.pid),
        "csvanalyst.host_started": owner.started,
    }


def _ours(client: Any) -> list[Any]:
    containers: list[Any] = client.containers.list(all=True, filters={"label": [LABEL, f"{HOME_LABEL}={home_tag()}"]})
    return containers


def cleanup(client: Any) -> int:
    """Remove every container this home's processes started that is still around; returns how many."""
    leftovers = _ours(client)
    for container in leftovers:
        remove(container)
    return len(leftovers)


def sweep_orphans(client: Any) -> int:
    """Remove this home's containers whose host process is gone; live servers' workers stay."""
    from csvanalyst.store.owners import Owner, is_gone

    removed = 0
    for container in _ours(client):
        labels = container.labels
        pid = labels.get("csvanalyst.host_pid", "")
        owner = Owner(
            labels.get("csvanalyst.host", ""),
            int(pid) if pid.isdigit() else 0,
            labels.get("csvanalyst.host_started", ""),
        )
        if pid.isdigit() and is_gone(owner):
            remove(container)
            removed += 1
    return removed


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
