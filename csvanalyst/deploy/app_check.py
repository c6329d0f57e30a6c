"""Start the application image the way a hardened cluster would, and see that it serves.

Read-only root filesystem, a fixed non-root uid, no capabilities, no new privileges; writable only a
tmpfs /tmp and a fresh volume for the home. `csvanalyst deploy check` and the image's test share this.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from csvanalyst.errors import EnvironmentProblem

UID = 10001
HOME = "/var/lib/csvanalyst"
LABEL = "csvanalyst.app-check"
START_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class RunningApp:
    container: Any
    url: str
    token: str

    def get(self, path: str) -> tuple[int, Any]:
        return self.request("GET", path)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, Any]:
        """(status, decoded JSON body); an HTTP error status is returned, not raised."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if content_type:
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


SERVE_ARGS = ("--host", "0.0.0.0", "--port", "8000")


def run_options(token: str, volume: str, args: tuple[str, ...] = ()) -> dict[str, Any]:
    """`docker run --read-only --user 10001:10001 --cap-drop ALL --security-opt no-new-privileges ...`."""
    return {
        "read_only": True,
        "user": f"{UID}:{UID}",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=512m"},
        "volumes": {volume: {"bind": HOME, "mode": "rw"}},
        "environment": {"CSVANALYST_TOKEN": token},
        "command": [*SERVE_ARGS, *args],
        "ports": {"8000/tcp": ("127.0.0.1", None)},
        "labels": {LABEL: "1"},
        "detach": True,
    }


@contextmanager
def running(client: Any, image: str, args: tuple[str, ...] = ()) -> Iterator[RunningApp]:
    """The image serving on a loopback port until the block ends (`args` go to `serve`); container and
    volume are removed after."""
    token = secrets.token_urlsafe(24)
    volume = client.volumes.create(labels={LABEL: "1"})
    container = None
    try:
        container = client.containers.run(image, **run_options(token, volume.name, args))
        app = RunningApp(container, _published_url(container), token)
        wait_healthy(app)
        yield app
    finally:
        if container is not None:
            container.remove(force=True, v=True)
        volume.remove(force=True)


def _published_url(container: Any) -> str:
    container.reload()
    binding = (container.attrs["NetworkSettings"]["Ports"] or {}).get("8000/tcp") or []
    if not binding:
        raise EnvironmentProblem(
            f"The application container exited at start: {_log_tail(container)}",
            hint="Run `docker logs` on it, or rebuild the image with `csvanalyst deploy image`.",
        )
    return f"http://127.0.0.1:{binding[0]['HostPort']}"


def wait_healthy(app: RunningApp) -> None:
    """Until /healthz answers; a container that exits first fails at once with its log."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if app.get("/healthz")[0] == 200:
                return
        except (OSError, ValueError):
            pass
        app.container.reload()
        if app.container.status == "exited":
            break
        time.sleep(0.2)
    raise EnvironmentProblem(
        f"The application did not become healthy: {_log_tail(app.container)}",
        hint="Run the image by hand with `docker run` and read its log.",
    )


def _log_tail(container: Any) -> str:
    return " ".join(container.logs().decode("utf-8", "replace").strip().splitlines()[-3:]) or "no output"


def process_uid(app: RunningApp) -> int:
    """The real uid of the server process (PID 1), from the kernel rather than from what docker was told."""
    code, output = app.container.exec_run(["cat", "/proc/1/status"])
    for line in output.decode().splitlines():
        if line.startswith("Uid:") and code == 0:
            return int(line.split()[1])
    raise EnvironmentProblem("Could not read the server's uid.", hint="Check that the container is running.")


def check(client: Any, image: str) -> list[tuple[str, bool, str]]:
    """What `deploy check` reports: (what, passed, detail) for each property."""
    with running(client, image) as app:
        status, health = app.get("/healthz")
        ready_status, ready = app.get("/readyz")
        uid = process_uid(app)
        attrs = app.container.attrs["HostConfig"]
    return [
        ("healthz", status == 200, json.dumps(health)),
        ("readyz", ready_status == 200, json.dumps(ready)),
        ("runs as uid 10001", uid == UID, f"uid {uid}"),
        ("read-only root filesystem", bool(attrs.get("ReadonlyRootfs")), "ReadonlyRootfs"),
        (
            "no capabilities",
            attrs.get("CapDrop") == ["ALL"] and not attrs.get("CapAdd"),
            f"CapDrop {attrs.get('CapDrop')}",
        ),
    ]
