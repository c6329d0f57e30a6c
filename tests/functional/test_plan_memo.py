"""A repeat QueryPlan is answered with its remembered SQL instead of compiling it again (no sqlglot
import in a fresh process), any change of plan or data compiles afresh, and remembered SQL that was
tampered with is still refused by the policy check."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from csvanalyst.errors import ErrorCode, exit_code_for

PLAN = {"table": "orders", "group_by": ["status"], "aggregates": [{"fn": "count", "alias": "n"}]}
SCRIPT = """
import sys
from csvanalyst.cli.app import main
try:
    main(sys.argv[1:], exit_process=False)
except SystemExit as done:
    print("sqlglot imported" if "sqlglot" in sys.modules else "sqlglot not imported", file=sys.stderr)
    raise
"""


def _plan(home: Path, plan: dict) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    argv = [sys.executable, "-c", SCRIPT, "plan", "-", "-d", "retail", "--format", "csv"]
    return subprocess.run(argv, input=json.dumps(plan), capture_output=True, text=True, env=env, timeout=300)


def _entries(home: Path) -> list[Path]:
    return sorted((home / "cache" / "plans").glob("*.json"))


def test_a_repeat_plan_skips_the_compiler_and_gives_the_same_answer(isolated_home: Path) -> None:
    first = _plan(isolated_home, PLAN)
    assert first.returncode == 0, first.stderr
    assert "sqlglot imported" in first.stderr and len(_entries(isolated_home)) == 1
    again = _plan(isolated_home, PLAN)
    assert again.returncode == 0, again.stderr
    assert "sqlglot not imported" in again.stderr
    assert again.stdout == first.stdout and len(_entries(isolated_home)) == 1


def test_another_plan_compiles_afresh(isolated_home: Path) -> None:
    assert _plan(isolated_home, PLAN).returncode == 0
    other = _plan(isolated_home, {**PLAN, "limit": 2})
    assert other.returncode == 0, other.stderr
    assert "sqlglot imported" in other.stderr and len(_entries(isolated_home)) == 2
    assert len(other.stdout.strip().splitlines()) == 3  # a header and two rows


def test_tampered_remembered_sql_is_refused_by_the_policy(isolated_home: Path) -> None:
    assert _plan(isolated_home, PLAN).returncode == 0
    (entry,) = _entries(isolated_home)
    data = json.loads(entry.read_text())
    data["sql"] = "SELECT * FROM read_text('/etc/passwd')"
    entry.write_text(json.dumps(data))
    tampered = _plan(isolated_home, PLAN)
    assert tampered.returncode == exit_code_for(ErrorCode.REJECTED), tampered.stderr
    assert "root:" not in tampered.stdout


def test_a_repeat_question_imports_no_sql_parser(isolated_home: Path) -> None:
    """The plan's SQL, the policy's approval and the chart's reading of the SQL are all remembered."""
    env = {**os.environ, "CSVANALYST_HOME": str(isolated_home)}
    argv = [sys.executable, "-c", SCRIPT, "ask", "how many orders per status", "-d", "retail", "--provider", "offline"]
    first = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "sqlglot imported" in first.stderr
    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "sqlglot not imported" in again.stderr
    assert _without_run_ids(again.stdout) == _without_run_ids(first.stdout)


def _without_run_ids(text: str) -> str:
    return re.sub(r"\brun [0-9a-f]{8,}\b", "run <id>", text)
