"""The worker imports, before its first fork, everything a forwarded command reaches: a request process
forked from it imports no module of the package, whichever command it runs. Checked in a real process
that warms up as the worker does and then runs `sql` and an offline `ask` over a demo dataset."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import contextlib, io, json, sys
from csvanalyst.daemon import server
server.warm_up()
from csvanalyst.cli.app import main
late = {}
for args in json.loads(sys.argv[1]):
    before = set(sys.modules)
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(args, exit_process=False)
        except SystemExit as done:
            assert done.code == 0, (args, done.code)
    late[args[0]] = sorted(m for m in set(sys.modules) - before if m.startswith("csvanalyst"))
print(json.dumps(late))
"""


def test_a_request_process_imports_nothing_of_the_package_after_the_warm_up(isolated_home: Path) -> None:
    commands = [
        ["sql", "SELECT status, count(*) AS n FROM orders GROUP BY status", "-d", "retail"],
        ["ask", "how many orders per status", "-d", "retail", "--provider", "offline"],
        ["plan", "-", "-d", "retail"],
    ]
    plan = {"table": "orders", "group_by": ["status"], "aggregates": [{"fn": "count", "alias": "n"}]}
    env = {**os.environ, "CSVANALYST_HOME": str(isolated_home)}
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(commands)],
        input=json.dumps(plan), capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    late = json.loads(proc.stdout.strip().splitlines()[-1])
    assert late == {"sql": [], "ask": [], "plan": []}
