"""Installing the Helm chart from tests: the release's values, Helm's engine (the helm-python-sdk wheel, else
the `helm` binary) and HTTP over an already connected socket such as a Kubernetes port-forward's."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from csvanalyst import __version__

CHART = Path(__file__).resolve().parents[2] / "charts" / "csvanalyst"
RELEASE, PORT = "live", 8000
HTTP_TIMEOUT_S = 180.0


def split_image(ref: str) -> tuple[str, str]:
    """repository, tag; a registry's port (host:5000/app) is not a tag."""
    repository, _, tag = ref.rpartition(":")
    return (repository, tag) if repository and "/" not in tag else (ref, "latest")


def chart_values(token: str) -> dict[str, Any]:
    """The release's values: images from the environment (what was loaded into the nodes), tiny claims."""
    app = split_image(os.environ.get("CSVANALYST_TEST_APP_IMAGE") or f"csvanalyst-app:{__version__}")
    runner = split_image(os.environ.get("CSVANALYST_TEST_RUNNER_IMAGE") or "csvanalyst-runner:latest")
    return {
        "image": {"repository": app[0], "tag": app[1]},
        "runner": {"image": {"repository": runner[0], "tag": runner[1]}},
        "secrets": {"token": token},
        "model": {"provider": "offline"},
        "persistence": {"store": {"size": "64Mi"}, "datasets": {"size": "64Mi"}},
    }


Engine = tuple[Callable[[dict[str, Any]], object], Callable[[], object]]


def helm_engine(namespace: str, context: str | None) -> Engine:
    """install(values) and uninstall() of the release: the helm-python-sdk wheel when it loads, else `helm`."""
    try:
        import helm_python
    except Exception as exc:  # not installed, or its native library would not load
        return _helm_binary(namespace, context, reason=str(exc))
    config = helm_python.Config(kube_context=context, namespace=namespace)
    chart = helm_python.Chart.load(CHART)  # both handles are freed by the SDK's finalizers
    return (
        lambda values: config.install(chart, RELEASE, values, namespace=namespace),
        lambda: config.uninstall(RELEASE, ignore_not_found=True, timeout=120),
    )


def _helm_binary(namespace: str, context: str | None, reason: str) -> Engine:
    binary = shutil.which("helm")
    if binary is None:
        pytest.skip(f"helm-python-sdk is unusable ({reason}) and there is no `helm` binary on PATH")
    where = [f"--namespace={namespace}", *([f"--kube-context={context}"] if context else [])]

    def run(*args: str, stdin: str = "") -> None:
        done = subprocess.run([str(binary), *args, *where], input=stdin, capture_output=True, text=True)
        assert done.returncode == 0, f"helm {args[0]}: {done.stderr}"

    return (
        lambda values: run("install", RELEASE, str(CHART), "--values", "-", stdin=json.dumps(values)),
        lambda: run("uninstall", RELEASE, "--ignore-not-found"),
    )


def exchange(sock: Any, method: str, path: str, token: str, body: bytes | None, content_type: str) -> tuple[int, Any]:
    """One HTTP request over an already connected socket (a port-forward's): status and decoded JSON body."""
    sock.settimeout(HTTP_TIMEOUT_S)
    conn = http.client.HTTPConnection("localhost", PORT)
    conn.sock = sock  # already connected: http.client then skips connect()
    headers = {"Authorization": f"Bearer {token}", "Connection": "close"}
    if content_type:
        headers["Content-Type"] = content_type
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()
