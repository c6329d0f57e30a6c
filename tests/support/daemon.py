"""Real `csvanalyst` processes with the background worker on, and polls with deadlines (never fixed sleeps)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csvanalyst.daemon import control
from tests.support.processes import alive, parent

DEADLINE_S = 120.0  # a bound for a stuck, loaded machine, not a measurement
_RUN_ID = re.compile(r"\b[0-9a-f]{16,20}\b")
_THREAD_ID = re.compile(r"\bt[0-9a-f]{10,14}\b")
_MS = re.compile(r"\d+(\.\d+)? ms\b")
_TIMINGS = re.compile(r'"(total_ms|setup_ms|query_ms|[a-z_]+_ms)": [0-9.]+')


def env_for(home: Path, **extra: str | None) -> dict[str, str]:
    """The test's environment with the worker on; an `extra` of None removes that variable."""
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_DAEMON": "1", "COLUMNS": "200", **extra}
    return {key: value for key, value in env.items() if value is not None}


def cli(home: Path, *args: str, stdin: str | None = None, **extra: str | None) -> subprocess.CompletedProcess[str]:
    """One command as a script runs it: a fresh `python -m csvanalyst` (the console script's client)."""
    return subprocess.run(
        [sys.executable, "-m", "csvanalyst", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env_for(home, **extra),
        timeout=DEADLINE_S,
    )


def popen(home: Path, *args: str, stdin: str | None = None, **extra: str | None) -> subprocess.Popen[str]:
    """A command left running; `stdin`, if given, is all its standard input (a pipe already closed)."""
    import signal

    reader = None
    if stdin is not None:
        reader, writer = os.pipe()
        os.write(writer, stdin.encode())  # small: it fits the pipe's buffer
        os.close(writer)
    proc = subprocess.Popen(
        [sys.executable, "-m", "csvanalyst", *args],
        stdin=reader,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(home, **extra),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as in a terminal
    )
    if reader is not None:
        os.close(reader)
    return proc


def wait_for(check: Callable[[], Any], what: str, deadline_s: float = DEADLINE_S) -> Any:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def status(home: Path) -> dict[str, Any]:
    return control.status(home)


def running(home: Path) -> dict[str, Any]:
    """Wait until a worker answers at `home`; its status."""
    return wait_for(lambda: (s := status(home))["running"] and s, f"a worker at {home}")


def warm(home: Path, **extra: str | None) -> dict[str, Any]:
    """A worker that is up: the first command starts it (and runs in its own process)."""
    first = cli(home, "sql", "SELECT 1 AS x", "-d", "retail", "--format", "csv", **extra)
    assert first.returncode == 0, first.stderr
    return running(home)


def requests(home: Path) -> int:
    return int(status(home)["requests"])


# A transient status line (cursor hidden, redrawn, erased, cursor shown): how many frames it drew
# depends on how long the run took, so only its presence is compared.
_TRANSIENT_STATUS = re.compile(r"\x1b\[\?25l.*?\x1b\[\?25h", re.S)


def same_text(text: str) -> str:
    """Output with what differs from run to run (run ids, timings, status frames) masked."""
    text = _TRANSIENT_STATUS.sub("STATUS", text)
    masked = _THREAD_ID.sub("THREAD", _RUN_ID.sub("RUN", text))
    return _TIMINGS.sub(r'"\1": 0', _MS.sub("N ms", masked))


def worker_processes(home: Path) -> list[int]:
    """Pids of fork servers started for `home` (read from /proc, so duplicates would show). Its pool and
    request processes are forks of it with the same command line: they are told apart by their parent."""
    found = _server_processes(home)
    return [pid for pid in found if parent(pid) not in found]


def _server_processes(home: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"csvanalyst.daemon.server" in argv and os.fsencode(str(home)) in argv and alive(int(entry)):
            found.append(int(entry))
    return found


def run_status(home: Path, run_id: str | None = None) -> str | None:
    import sqlite3

    store = home / "csvanalyst.db"
    if not store.exists():
        return None
    try:
        with sqlite3.connect(store) as db:
            if run_id:
                row = db.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
            else:
                row = db.execute("SELECT status FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None
