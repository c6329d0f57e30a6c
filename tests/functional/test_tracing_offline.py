"""A traced turn makes no connection beyond loopback: run in a network namespace with only `lo`, with an
audit hook that records every connect and name lookup, so an attempt fails the test even where the
namespace would have refused it quietly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.requires import require_tool, unavailable

pytest.importorskip("mlflow", reason="tracing tests need the [mlflow] extra (in the dev extra)")

PROBE = r"""
import fcntl, json, socket, struct, sys

# Bring up `lo`, the namespace's only interface (what `ip link set lo up` does), without needing iproute2.
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP, IFREQ = 0x8913, 0x8914, 0x1, "16sh14x"
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as control:
    flags = struct.unpack(IFREQ, fcntl.ioctl(control, SIOCGIFFLAGS, struct.pack(IFREQ, b"lo", 0)))[1]
    fcntl.ioctl(control, SIOCSIFFLAGS, struct.pack(IFREQ, b"lo", flags | IFF_UP))

attempts = []
LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")

def is_loopback(host):
    return isinstance(host, str) and (host.startswith(LOOPBACK) or host.startswith("/"))

def watch(event, args):
    if event == "socket.connect":
        address = args[1]
        host = address[0] if isinstance(address, tuple) else address
        if not is_loopback(host):
            attempts.append(f"connect {address!r}")
    elif event == "socket.getaddrinfo" and not is_loopback(args[0]) and args[0] is not None:
        attempts.append(f"lookup {args[0]!r}")

sys.addaudithook(watch)

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session

events = list(Session(provider="offline").ask("How many orders are there?", DataScope(dataset="retail")))
import mlflow
mlflow.flush_trace_async_logging()
print(json.dumps({"attempts": attempts, "status": events[-1].status, "trace_id": events[-1].trace_id}))
"""


def test_a_traced_turn_stays_on_the_machine(isolated_home: Path) -> None:
    unshare = require_tool("unshare", "the no-network tracing test")
    check = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True)
    if check.returncode != 0:
        unavailable(f"cannot create a network namespace here (unshare -n: {check.stderr.strip()})")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HTTP_PROXY", "HTTPS_PROXY"))}
    env["CSVANALYST_MLFLOW_ENABLED"] = "1"
    done = subprocess.run(
        [unshare, "-n", sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=isolated_home
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["attempts"] == []
    assert result["status"] == "answered" and result["trace_id"]

    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{isolated_home / 'mlflow' / 'mlflow.db'}")
    assert mlflow.get_trace(result["trace_id"]) is not None
