"""The `csvanalyst` console script: hand a one-shot command to the warm worker, or run it here.

Only the standard library is imported before the decision, so a forwarded command costs an interpreter
start, one connect and the work itself. Anything that is not clearly forwardable (another command,
`--no-daemon`, the daemon turned off, no worker yet, a version mismatch, any connection error) runs in
this process exactly as it always did. See docs/daemon.md.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from csvanalyst.daemon import wire

FORWARDED = ("sql", "ask", "plan")
NO_DAEMON_FLAG = "--no-daemon"
DAEMON_FLAG = "--daemon"
REPLY_TIMEOUT_S = 10.0  # the worker answers a request at once (it only forks); past this it is stuck
STDIN_ARG = "-"  # the query, plan or question comes from stdin
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL")
OFF = ("0", "false", "no", "off")
ON = ("1", "true", "yes", "on")


def main() -> None:
    argv = sys.argv[1:]
    if wants_worker(argv):
        code = forward(argv)
        if code is not None:
            _exit(code)
    from csvanalyst.cli.app import main as run_here

    run_here(argv)


def wants_worker(argv: list[str]) -> bool:
    """A forwardable command, asked for (`--daemon` or the setting) and not opted out of (`--no-daemon`, which
    wins), on a system that has a worker."""
    if not argv or argv[0] not in FORWARDED:
        return False
    options = argv[: argv.index("--")] if "--" in argv else argv
    if NO_DAEMON_FLAG in options or not wire.supported():
        return False
    return DAEMON_FLAG in options or enabled()


def enabled() -> bool:
    """The `daemon` setting, read as Settings would (environment, then config.toml, default off). A value
    that is neither on nor off is left to the in-process run, which reports it as a setting error."""
    value = os.environ.get("CSVANALYST_DAEMON")
    if value is None:
        value = _file_setting(wire.home() / "config.toml", "daemon")
    if value is None:
        return False
    text = str(value).strip().lower()
    return text in ON if text in ON + OFF else False


def _file_setting(path: Path, name: str) -> Any:
    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if name.encode() not in raw:  # the usual case, without importing tomllib
        return None
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8")).get(name)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError):
        return "invalid"


def forward(argv: list[str]) -> int | None:
    """The command's exit code from the worker, or None to run it here (nothing of it has run)."""
    base = wire.home()
    path = wire.socket_path(base)
    if not wire.usable_path(path):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        sock.close()
        start_worker(base)
        return None
    with sock:
        try:
            if not wire.same_user(sock):
                return None
            request = build_request(argv)
            sock.settimeout(REPLY_TIMEOUT_S)
            wire.send(sock, request, fds=[0, 1, 2])
        except OSError:
            return None
        return Relay(sock, base, reads_stdin=STDIN_ARG in argv[1:]).wait()


def build_request(argv: list[str]) -> dict[str, Any]:
    mask = os.umask(0o022)
    os.umask(mask)
    return {
        "op": "run",
        "version": wire.code_version(),
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": mask,
        "streams": {name: _stream_shape(getattr(sys, name)) for name in ("stdin", "stdout", "stderr")},
        "ignored_signals": [int(s) for s in FORWARDED_SIGNALS if signal.getsignal(s) == signal.SIG_IGN],
    }


def _stream_shape(stream: Any) -> dict[str, Any] | None:
    """How this interpreter set the stream up, so the request process builds the same one."""
    if stream is None:
        return None
    return {
        "encoding": stream.encoding,
        "errors": stream.errors,
        "line_buffering": stream.line_buffering,
        "write_through": getattr(stream, "write_through", False),
    }


class Relay:
    """Waits for the request process's exit code, passing on the signals this process receives."""

    def __init__(self, sock: socket.socket, base: Path, *, reads_stdin: bool = False) -> None:
        self.sock = sock
        self.base = base
        self.reads_stdin = reads_stdin
        self.pid: int | None = None
        self.received: list[int] = []

    def wait(self) -> int | None:
        for sig in FORWARDED_SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:
                signal.signal(sig, self._pass_on)
        try:
            reply = self._next()
            if reply is None:
                return None  # the worker ended before starting anything: run it here
            if reply.get("restart"):
                start_worker(self.base)
                return None
            self.pid = int(reply["pid"])
            for number in self.received:
                self._signal_child(number)
            self.sock.settimeout(None)
            done = self._next()
        finally:
            for sig in FORWARDED_SIGNALS:
                if signal.getsignal(sig) == self._pass_on:
                    signal.signal(sig, signal.SIG_DFL if sig != signal.SIGINT else signal.default_int_handler)
        if done is not None and done.get("fallback"):
            return None
        if done is not None and "exit" in done:
            return int(done["exit"])
        return self._child_lost()

    def _next(self) -> dict[str, Any] | None:
        try:
            message, _ = wire.receive(self.sock)
        except (OSError, EOFError, ValueError):
            return None
        return message

    def _child_lost(self) -> int | None:
        """The request process ended without an exit code. After a signal we passed on, end as that signal
        would have ended this process; otherwise (it was killed from outside) run the command here, unless
        it had its input from stdin, which that process may have read: then say so."""
        if not self.received:
            return _report_lost_input() if self.reads_stdin else None
        sig = self.received[-1]
        if sig == signal.SIGINT:
            print("interrupted", file=sys.stderr)
            return 130
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig

    def _pass_on(self, sig: int, _frame: Any) -> None:
        self.received.append(sig)
        if self.pid is not None:
            self._signal_child(sig)

    def _signal_child(self, sig: int) -> None:
        assert self.pid is not None
        try:
            os.killpg(self.pid, sig)
        except OSError:
            with contextlib.suppress(OSError):
                os.kill(self.pid, sig)


def _report_lost_input() -> int:
    from csvanalyst.cli.diagnostics import report
    from csvanalyst.errors import EnvironmentProblem

    return report(
        EnvironmentProblem(
            "The background worker's process running this command was killed, and the input it read from "
            "stdin cannot be read again.",
            hint="Run the command again; --no-daemon runs it in its own process (docs/daemon.md).",
        )
    )


def start_worker(base: Path) -> None:
    """Start the worker in the background for the next command, unless one is already starting. Its own
    environment leaves out secret-looking variables: each request brings the caller's environment."""
    if worker_alive(base):
        return
    try:
        base.mkdir(parents=True, exist_ok=True)
        log = os.open(base / wire.LOG_NAME, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    env = {k: v for k, v in os.environ.items() if not any(w in k.upper() for w in SECRET_WORDS)}
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 0), (os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, log, 2)]
    try:
        argv = [sys.executable, "-m", "csvanalyst.daemon.server", os.fspath(base)]
        os.posix_spawn(sys.executable, argv, env, file_actions=actions, setsid=True)
    except OSError:
        pass
    finally:
        os.close(devnull)
        os.close(log)


def worker_alive(base: Path) -> bool:
    """A worker holds the lock file from its first instant until it has gone."""
    import fcntl

    try:
        fd = os.open(wire.lock_path(base), os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops a lock we took
    return False


def _exit(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
