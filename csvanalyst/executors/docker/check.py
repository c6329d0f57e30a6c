"""`csvanalyst runner check`: prove the image answers a known query and is locked down as documented.

The probes run inside a container created exactly like a real run's, so they check what a query
would actually get, not what the Dockerfile claims.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import Limits, RunRequest

KNOWN_CSV = "region,amount\nnorth,10.5\nsouth,20\nnorth,1\n"
KNOWN_SQL = "SELECT region, sum(amount) AS total FROM sales GROUP BY 1 ORDER BY 1"
KNOWN_ROWS = [["north", 11.5], ["south", 20.0]]

# Runs inside the container; prints one JSON object of observations.
PROBE = """
import json, os, socket
seen = {"uid": os.getuid()}
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
seen["cap_eff"] = status["CapEff"].strip()
seen["no_new_privs"] = status.get("NoNewPrivs", "").strip()
try:
    open("/opt/csvanalyst/runner/x", "w"); seen["root_writable"] = True
except OSError:
    seen["root_writable"] = False
try:
    socket.create_connection(("169.254.169.254", 80), timeout=2); seen["network"] = True
except OSError:
    seen["network"] = False
seen["interfaces"] = sorted(os.listdir("/sys/class/net"))
seen["data"] = sorted(os.listdir("/data")) if os.path.isdir("/data") else []
print(json.dumps(seen))
"""


def check(executor: object) -> list[tuple[str, bool, str]]:
    """(what, passed, detail) for the known query and each hardening property."""
    from csvanalyst.executors.docker.executor import DockerExecutor

    assert isinstance(executor, DockerExecutor)
    with tempfile.TemporaryDirectory(prefix="csvanalyst-check-") as tmp:
        csv = Path(tmp) / "sales.csv"
        csv.write_text(KNOWN_CSV)
        tables = {"sales": TableSource(path=str(csv), format="csv")}
        request = RunRequest(code=KNOWN_SQL, tables=tables, limits=Limits(timeout_s=30, memory_mb=512))
        result = executor.run(request)
        rows_ok = result.status == "ok" and result.rows == KNOWN_ROWS
        detail = f"{result.rows}" if result.status == "ok" else f"{result.status}: {result.error}"
        checks = [("known query gives the known answer", rows_ok, detail)]
        outcome = executor.spawn(["python3", "-c", PROBE], b"", request)
    try:
        seen = json.loads(outcome.stdout)
    except ValueError:
        return [*checks, ("hardening probe ran", False, outcome.stderr.decode(errors="replace")[-300:])]
    return [
        *checks,
        ("runs as a non-root user", seen["uid"] != 0, f"uid {seen['uid']}"),
        ("no capabilities", int(seen["cap_eff"], 16) == 0, f"CapEff {seen['cap_eff']}"),
        ("no-new-privileges", seen["no_new_privs"] == "1", f"NoNewPrivs {seen['no_new_privs']}"),
        ("read-only root filesystem", not seen["root_writable"], "write to /opt refused"),
        ("no network", not seen["network"] and seen["interfaces"] == ["lo"], f"interfaces {seen['interfaces']}"),
        ("only the run's tables are mounted", seen["data"] == ["0"], f"/data holds {seen['data']}"),
    ]
