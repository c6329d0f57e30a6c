"""The warm background worker with real processes: the same output and exit codes as a command in its own
process, and a correct answer (never a hang or a lost run) when the worker is killed, its socket is stale,
or two commands start it at once. Every wait polls with a deadline; no test asserts a time."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.daemon import control, wire
from csvanalyst.errors import ErrorCode, exit_code_for
from tests.support import daemon as d
from tests.support.requires import local_isolation
from tests.support.slow import NEVER_ENDING_SQL

GROUP_BY = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status"


@pytest.fixture
def home(isolated_home: Path) -> Path:
    """The test's own CSVANALYST_HOME; tests/conftest.py stops any worker started for it."""
    return isolated_home


@pytest.fixture
def worker(home: Path) -> dict:
    return d.warm(home)


SAME_AS_IN_PROCESS = [
    (["sql", GROUP_BY, "-d", "retail", "--format", "csv"], None),
    (["sql", GROUP_BY, "-d", "retail", "--format", "json"], None),
    (["sql", GROUP_BY, "-d", "retail"], None),
    (["sql", "-", "-d", "retail", "--format", "csv"], GROUP_BY),
    (["sql", "SELECT nope FROM orders", "-d", "retail"], None),
    (["sql", "DROP TABLE orders", "-d", "retail"], None),
    (["sql", "SELECT 1", "-d", "no_such_dataset"], None),
    (["sql", "SELECT 1"], None),
    (["plan", "-", "-d", "retail"], "{not json"),
    (["ask", "how many orders per status", "-d", "retail", "--provider", "offline"], None),
    (["ask", "how many orders per status", "-d", "retail", "--provider", "offline", "--json"], None),
    (["sql", "--help"], None),
]


@pytest.mark.parametrize(("args", "stdin"), SAME_AS_IN_PROCESS, ids=lambda v: " ".join(v)[:40] if v else "")
def test_a_forwarded_command_prints_and_fails_as_in_its_own_process(
    home: Path, worker: dict, args: list[str], stdin: str | None
) -> None:
    before = d.requests(home)
    warm = d.cli(home, *args, stdin=stdin)
    assert d.requests(home) == before + 1, "the command did not go through the worker"
    cold = (
        d.cli(home, *args, "--no-daemon", stdin=stdin)
        if "--help" not in args
        else d.cli(home, *args, stdin=stdin, CSVANALYST_DAEMON="0")
    )
    assert d.requests(home) == before + 1, "--no-daemon still went through the worker"
    assert (warm.returncode, d.same_text(warm.stdout), d.same_text(warm.stderr)) == (
        cold.returncode,
        d.same_text(cold.stdout),
        d.same_text(cold.stderr),
    )
    assert "Traceback" not in warm.stderr


def test_on_a_terminal_the_colours_and_table_are_the_same(home: Path, worker: dict) -> None:
    import pty

    def under_pty(*args: str) -> tuple[int, bytes]:
        pid, fd = pty.fork()
        if pid == 0:
            env = d.env_for(home, TERM="xterm-256color", COLUMNS="100")
            os.execve(sys.executable, [sys.executable, "-m", "csvanalyst", *args], env)
        out = bytearray()
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, code = os.waitpid(pid, 0)
        os.close(fd)
        return os.waitstatus_to_exitcode(code), bytes(out)

    for args in (["sql", GROUP_BY, "-d", "retail"], ["sql", "SELECT nope FROM orders", "-d", "retail"]):
        before = d.requests(home)
        warm = under_pty(*args)
        assert d.requests(home) == before + 1
        cold = under_pty(*args, "--no-daemon")
        assert b"\x1b[" in warm[1], "no colours on a terminal"
        assert (warm[0], d.same_text(warm[1].decode())) == (cold[0], d.same_text(cold[1].decode()))


def test_ctrl_c_cancels_the_run_and_exits_130(home: Path, worker: dict) -> None:
    proc = d.popen(home, "sql", NEVER_ENDING_SQL, "-d", "retail", "--timeout", "300")
    d.wait_for(lambda: d.run_status(home) == "running" or proc.poll() is not None, "the run to start")
    assert d.run_status(home) == "running", proc.communicate()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=d.DEADLINE_S)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert d.run_status(home) == "cancelled"
    assert d.requests(home) == 1
    here = d.popen(home, "sql", NEVER_ENDING_SQL, "-d", "retail", "--timeout", "300", "--no-daemon")
    d.wait_for(lambda: d.run_status(home) == "running" or here.poll() is not None, "the run to start here")
    here.send_signal(signal.SIGINT)
    _, stderr_here = here.communicate(timeout=d.DEADLINE_S)
    assert (here.returncode, stderr_here) == (130, stderr)
    assert d.requests(home) == 1


def _server_children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as f:
        return {int(p) for p in f.read().split()}


def _slow_run(home: Path) -> subprocess.Popen[str]:
    """A run that ends by its own time limit (exit 5), started through the worker and seen running."""
    proc = d.popen(home, "sql", NEVER_ENDING_SQL, "-d", "retail", "--timeout", "6", "--format", "csv")
    d.wait_for(lambda: d.run_status(home) == "running" or proc.poll() is not None, "the run to start")
    assert proc.poll() is None, proc.communicate()
    return proc


def _runs(home: Path) -> list[dict]:
    return json.loads(d.cli(home, "runs", "list", "--json", CSVANALYST_DAEMON="0").stdout)


def test_kill_9_of_the_worker_mid_request_still_answers_and_the_next_command_recovers(home: Path, worker: dict) -> None:
    proc = _slow_run(home)
    os.kill(worker["pid"], signal.SIGKILL)
    d.wait_for(lambda: not d.alive(worker["pid"]), "the worker to die")
    _, stderr = proc.communicate(timeout=d.DEADLINE_S)
    assert proc.returncode == 5 and "timeout" in stderr.lower(), stderr
    assert [r["status"] for r in _runs(home)][:1] == ["timeout"]
    assert wire.socket_path(home).exists(), "the killed worker's socket should be left behind (stale)"
    again = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")  # a stale socket: runs here
    assert again.returncode == 0 and again.stdout.startswith("status,n"), again.stderr
    fresh = d.running(home)
    assert fresh["pid"] != worker["pid"]
    assert d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv").stdout == again.stdout
    assert d.requests(home) == 1


def test_kill_9_of_the_request_process_reruns_it_here_and_keeps_the_killed_run(home: Path, worker: dict) -> None:
    proc = _slow_run(home)
    children = _server_children(worker["pid"]) - {worker["pool_pid"]}
    assert len(children) == 1, children
    os.kill(children.pop(), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=d.DEADLINE_S)
    assert proc.returncode == 5 and "timeout" in stderr.lower(), stderr
    from csvanalyst.store.db import connect
    from csvanalyst.store.owners import repair_orphaned_runs

    assert repair_orphaned_runs(connect(home / "csvanalyst.db")) == 1  # the killed one, still recorded
    statuses = sorted(r["status"] for r in _runs(home) if r["kind"] == "sql" and "range" in (r.get("input") or ""))
    assert statuses == ["error", "timeout"], _runs(home)


def test_kill_9_of_the_request_process_that_read_stdin_says_so_and_does_not_rerun(home: Path, worker: dict) -> None:
    proc = d.popen(home, "sql", "-", "-d", "retail", "--timeout", "6", "--format", "csv", stdin=NEVER_ENDING_SQL)
    d.wait_for(lambda: d.run_status(home) == "running" or proc.poll() is not None, "the run to start")
    assert proc.poll() is None, proc.communicate()
    children = _server_children(worker["pid"]) - {worker["pool_pid"]}
    assert len(children) == 1, children
    os.kill(children.pop(), signal.SIGKILL)
    _, stderr = proc.communicate(timeout=d.DEADLINE_S)
    assert proc.returncode == exit_code_for(ErrorCode.ENVIRONMENT), stderr
    assert "cannot be read again" in stderr and "Traceback" not in stderr
    assert len([r for r in _runs(home) if "range" in (r.get("input") or "")]) == 1, "the command ran again"


def test_kill_9_of_the_pools_mid_run_falls_back_and_they_come_back(home: Path, worker: dict) -> None:
    local_isolation("bwrap")
    proc = _slow_run(home)
    os.kill(worker["pool_pid"], signal.SIGKILL)
    _, stderr = proc.communicate(timeout=d.DEADLINE_S)
    assert proc.returncode == 5 and "timeout" in stderr.lower(), stderr
    again = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")
    assert again.returncode == 0 and again.stdout.startswith("status,n"), again.stderr
    assert d.status(home)["pool_pid"] not in (None, worker["pool_pid"])


def test_a_stale_socket_file_is_replaced(home: Path) -> None:
    path = wire.socket_path(home)
    home.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(os.fspath(path))  # a socket file nobody listens on, as a killed worker leaves it
    first = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")
    assert first.returncode == 0 and first.stdout.startswith("status,n"), first.stderr
    d.running(home)
    second = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")
    assert second.stdout == first.stdout and d.requests(home) == 1


def test_two_commands_starting_it_at_once_both_answer_and_one_worker_stays(home: Path) -> None:
    procs = [d.popen(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv") for _ in range(3)]
    outputs = [p.communicate(timeout=d.DEADLINE_S) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs
    assert len({out for out, _ in outputs}) == 1 and outputs[0][0].startswith("status,n")
    d.running(home)
    d.wait_for(lambda: len(d.worker_processes(home)) == 1, "exactly one worker")
    again = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")
    assert again.stdout == outputs[0][0]


def test_a_client_of_another_version_retires_the_worker(home: Path, worker: dict) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(os.fspath(wire.socket_path(home)))
        wire.send(sock, {"op": "run", "version": "0.0.1+other", "argv": ["sql", "SELECT 1"]}, fds=[0, 1, 2])
        reply, _ = wire.receive(sock)
    assert reply == {"restart": True}
    d.wait_for(lambda: not d.alive(worker["pid"]), "the old worker to retire")
    assert not wire.socket_path(home).exists()
    first = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv")  # starts the current version
    assert first.returncode == 0, first.stderr
    assert d.running(home)["version"] == worker["version"]


def test_the_socket_is_private_and_another_user_is_refused(home: Path, worker: dict) -> None:
    path = wire.socket_path(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and path.stat().st_uid == os.getuid()
    if os.getuid() != 0:
        pytest.skip("acting as another user needs root; the mode check above ran")
    os.chmod(path, 0o666)  # past the file mode, the worker's own SO_PEERCRED check must refuse
    try:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            os.setgid(65534)
            os.setuid(65534)
            reply = control.ask(home, "status")
            os.write(write, b"answered" if reply else b"refused")
            os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        assert os.read(read, 64) == b"refused"
        os.close(read)
    finally:
        os.chmod(path, 0o600)
    assert d.status(home)["running"]


def test_an_idle_worker_stops_by_itself(home: Path) -> None:
    first = d.cli(home, "sql", "SELECT 1 AS x", "-d", "retail", CSVANALYST_DAEMON_IDLE_S="1")
    assert first.returncode == 0, first.stderr
    d.wait_for(
        lambda: (home / wire.LOG_NAME).exists() and "idle timeout" in (home / wire.LOG_NAME).read_text(),
        "the idle timeout",
    )
    d.wait_for(lambda: not wire.socket_path(home).exists() and not d.worker_processes(home), "the worker to go")


def test_the_worker_holds_no_secrets_and_each_command_brings_its_environment(home: Path) -> None:
    first = d.cli(home, "sql", "SELECT 1 AS x", "-d", "retail", OPENAI_API_KEY="sk-not-for-the-worker-123")
    assert first.returncode == 0, first.stderr
    info = d.running(home)
    with open(f"/proc/{info['pid']}/environ", "rb") as f:
        assert b"sk-not-for-the-worker" not in f.read()
    capped = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv", CSVANALYST_MAX_ROWS="1")
    assert d.requests(home) == 1
    assert capped.returncode == 0 and len(capped.stdout.splitlines()) == 2, capped.stdout
    assert "truncated" in capped.stderr


def test_status_and_stop(home: Path, worker: dict) -> None:
    shown = d.cli(home, "daemon", "status")
    assert shown.returncode == 0 and f"pid {worker['pid']}" in shown.stdout
    assert json.loads(d.cli(home, "daemon", "status", "--json").stdout)["pid"] == worker["pid"]
    stopped = d.cli(home, "daemon", "stop")
    assert stopped.returncode == 0 and f"stopped (pid {worker['pid']})" in stopped.stdout, stopped
    assert not wire.socket_path(home).exists() and not d.alive(worker["pid"])
    d.wait_for(lambda: not d.alive(worker["pool_pid"]), "the pools to stop")
    assert d.cli(home, "daemon", "status").stdout.startswith("not running")
    assert d.cli(home, "daemon", "stop").stdout.startswith("not running")


def test_off_by_default_and_daemon_opts_in(home: Path) -> None:
    plain = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv", CSVANALYST_DAEMON=None)
    assert plain.returncode == 0, plain.stderr
    assert not (home / wire.LOCK_NAME).exists() and not d.worker_processes(home), "a worker started by default"
    opted = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv", "--daemon", CSVANALYST_DAEMON="0")
    assert opted.stdout == plain.stdout, opted.stderr
    d.running(home)
    forwarded = d.cli(home, "sql", GROUP_BY, "-d", "retail", "--format", "csv", "--daemon", CSVANALYST_DAEMON="0")
    assert (forwarded.returncode, forwarded.stdout, d.requests(home)) == (0, plain.stdout, 1)
    d.cli(home, "sql", GROUP_BY, "-d", "retail", CSVANALYST_DAEMON=None)
    assert d.requests(home) == 1, "without --daemon or the setting, a command ran in the worker"


def test_the_setting_in_config_toml_turns_it_on_and_no_daemon_wins(home: Path) -> None:
    (home / "config.toml").write_text("daemon = true\n")
    d.warm(home, CSVANALYST_DAEMON=None)
    d.cli(home, "sql", GROUP_BY, "-d", "retail", CSVANALYST_DAEMON=None)
    assert d.requests(home) == 1
    d.cli(home, "sql", GROUP_BY, "-d", "retail", "--daemon", "--no-daemon", CSVANALYST_DAEMON=None)
    assert d.requests(home) == 1


def test_stop_finds_a_worker_that_is_still_starting(home: Path) -> None:
    """A worker that holds the lock but does not listen yet (still importing) is stopped by its pid."""
    proc = subprocess.Popen([sys.executable, "-m", "csvanalyst.daemon.server", str(home)], env=d.env_for(home))
    try:
        d.wait_for(lambda: control.lock_holder(home) == proc.pid, "the worker to take its lock")
        result = control.stop(home)
        assert result["stopped"] and result["pid"] == proc.pid, result
        assert proc.wait(timeout=d.DEADLINE_S) in (0, -signal.SIGTERM)
        assert not d.worker_processes(home)
    finally:
        if proc.poll() is None:
            proc.kill()
