"""A run that escapes every check inside its sandbox must not be able to reach the next run.

The warm workers (local bwrap/unshare, Docker) serve many runs from one long-lived process. Each test
starts a real worker whose forked child, for a request marked POISON, does what an escaped run does:
it plants `zoneinfo.py`, `pandas.py` and `numpy.py` (modules a run imports after the fork) in every
place it can write, and tries to open the worker's memory through /proc. A request marked INSPECT
reports, from inside the next child, which of those files it can still see. Victim runs in between
are ordinary SQL and Python runs through the unchanged runner; a planted module makes them fail.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest
from csvanalyst.executors.local.executor import LocalExecutor, available_modes
from csvanalyst.executors.local.pool import WORKER_BOOT
from tests.integration.docker_support import docker_executor, leftovers, unavailable

POISON, INSPECT = "-- poison\nSELECT 1", "-- inspect\nSELECT 1"
PLANTED = ("zoneinfo.py", "pandas.py", "numpy.py", "planted.txt")

# Runs in the forked child of the worker (main.run is what the child calls), with the child's rights.
HOSTILE = (
    f"_POISON, _INSPECT = {POISON!r}, {INSPECT!r}\n"
    + r"""
import json, os, sys, tempfile
from runner import main as _main
_real_run = _main.run
_PLANTED = ("zoneinfo.py", "pandas.py", "numpy.py", "planted.txt")

def _places():
    dirs = {os.getcwd(), tempfile.gettempdir(), os.environ.get("TMPDIR", ""), os.environ.get("HOME", "")}
    if os.environ.get("CSVANALYST_SANDBOX") in ("bwrap", "docker"):
        # Only where the sandbox's own root is what the run sees: under unshare these are the host's.
        dirs |= {"/tmp", "/", "/dev", "/dev/shm", "/var/tmp"} | {p or os.getcwd() for p in sys.path}
    return sorted(d for d in dirs if d and os.path.isdir(d))

def _poison():
    written = []
    for d in _places():
        for name in _PLANTED:
            try:
                with open(os.path.join(d, name), "w") as f:
                    f.write("raise RuntimeError('planted by an earlier run')\n")
                written.append(os.path.join(d, name))
            except OSError:
                pass
    try:
        open(f"/proc/{os.getppid()}/mem", "r+b").close()
        worker_memory = True
    except OSError:
        worker_memory = False
    return {"written": written, "worker_memory": worker_memory}

def _inspect():
    return {"visible": [os.path.join(d, n) for d in _places() for n in _PLANTED if os.path.exists(os.path.join(d, n))]}

def _run(data, scratch=None):
    code = data.get("code") if isinstance(data, dict) else None
    if code in (_POISON, _INSPECT):
        report = _poison() if code == _POISON else _inspect()
        data = {**data, "code": "SELECT '" + json.dumps(report).replace("'", "''") + "' AS report"}
    return _real_run(data, scratch)

_main.run = _run
"""
)

LOCAL_MODES = [m for m in ("bwrap", "unshare") if available_modes()[m] is None]


def report(result: object) -> dict:
    assert result.status == "ok", result.error  # type: ignore[attr-defined]
    return json.loads(result.rows[0][0])  # type: ignore[attr-defined]


def victims(tables: dict[str, TableSource], *, python: bool) -> list[RunRequest]:
    runs = [RunRequest(code="SELECT sum(a) AS s FROM t", tables=tables)]
    if python:
        runs.append(RunRequest(kind="python", code="result = int(t['a'].sum())", tables=tables))
    return runs


def exercise(executor: object, tables: dict[str, TableSource], *, python: bool, strict: bool = True) -> None:
    """Poison, victim, inspect, for each victim kind, all through one warm worker."""
    for victim in victims(tables, python=python):
        planted = report(executor.run(RunRequest(code=POISON, tables=tables)))  # type: ignore[attr-defined]
        assert planted["written"], "the poisoning run could not even write its own scratch"
        if strict:  # under unshare a run is root of its namespace: only its temp dir is promised fresh
            assert planted["worker_memory"] is False  # the worker's memory is out of a child's reach
        answer = executor.run(victim)  # type: ignore[attr-defined]
        assert answer.status == "ok", answer.error
        assert answer.rows == [[3]]
        assert report(executor.run(RunRequest(code=INSPECT, tables=tables)))["visible"] == []  # type: ignore[attr-defined]
    assert executor.pool.started == 1  # type: ignore[attr-defined]  # one worker served every run


@pytest.fixture
def tables(tmp_path: Path) -> dict[str, TableSource]:
    path = tmp_path / "t.csv"
    path.write_text("a\n1\n2\n")
    return {"t": TableSource(path=str(path), format="csv")}


@pytest.fixture(params=LOCAL_MODES or ["none"])
def local_warm(request: pytest.FixtureRequest) -> Iterator[LocalExecutor]:
    if not LOCAL_MODES:
        unavailable("the local warm pool needs bwrap or unshare, and neither works here")
    with LocalExecutor(request.param, keep_warm=True) as executor:
        assert executor.pool is not None
        boot = HOSTILE + WORKER_BOOT
        executor.pool.launcher = executor.worker_launcher([sys.executable, "-s", "-B", "-P", "-c", boot])
        yield executor


def test_local_warm_worker_gives_every_run_a_fresh_tmp(local_warm: LocalExecutor, tables: dict) -> None:
    # Python under unshare is refused outright (the whole host filesystem is visible there).
    bwrap = local_warm.isolation == "bwrap"
    exercise(local_warm, tables, python=bwrap, strict=bwrap)


def test_docker_warm_worker_gives_every_run_a_fresh_tmp(tables: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from csvanalyst.executors.docker import pool

    boot = HOSTILE + "from runner import worker\nsys.exit(worker.serve(sys.stdin.buffer, sys.stdout.buffer))\n"
    monkeypatch.setattr(pool, "WORKER_ARGV", ["python3", "-s", "-B", "-P", "-c", boot])
    with docker_executor(keep_warm=True) as executor:
        exercise(executor, tables, python=True)
    assert leftovers(executor) == []
