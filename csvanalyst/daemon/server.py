"""The background worker: a fork server that has already paid for the imports.

`python -m csvanalyst.daemon.server HOME`, started by a client on first use. It takes the lock file
before anything else (a second worker started at the same moment exits at once), imports the CLI and
everything a query needs, listens on HOME/daemon.sock (mode 0600, peers of another uid refused), and
forks one request process per command. The parent stays single-threaded and never opens the store or a
DuckDB connection, so every fork starts from a clean copy; the warm sandbox pools live in a separate
process (keeper.py) that a request reaches over its own socket pair.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from csvanalyst.daemon import wire

LOCK_WAIT_S = 10.0  # a worker that is retiring (a version change) gives up the lock within this
ACCEPT_READ_TIMEOUT_S = 5.0
WARM_PACKAGE = "csvanalyst"
# The front ends that are never forwarded, and what only tests use: left for their own processes.
COLD_PACKAGES = ("csvanalyst.tui", "csvanalyst.server", "csvanalyst.testing", "csvanalyst.__main__")
WARM_LIBRARIES = ("duckdb", "rich.console", "rich.table", "rich.markup")


def log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} [{os.getpid()}] {message}", file=sys.stderr, flush=True)


def take_lock(base: Path) -> int | None:
    """The lock file's descriptor, held for the worker's whole life; None if another worker holds it."""
    fd = os.open(wire.lock_path(base), os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())  # `daemon stop` finds a worker still warming up by it
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline or _live_worker_answers(base):
                os.close(fd)
                return None
            time.sleep(0.05)


def _live_worker_answers(base: Path) -> bool:
    """A worker that still accepts connections is not retiring: leave it be."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(os.fspath(wire.socket_path(base)))
            return True
        except OSError:
            return False


def warm_up() -> None:
    """Import every module a command may reach (the whole package, not a list that goes stale as modules
    are added), render once what rich loads lazily, and let sqlglot build its DuckDB dialect, all before
    the first fork: a request process then imports nothing."""
    import importlib
    import pkgutil

    package = importlib.import_module(WARM_PACKAGE)
    names = [m.name for m in pkgutil.walk_packages(package.__path__, f"{WARM_PACKAGE}.")]
    for name in [*WARM_LIBRARIES, *(n for n in names if not n.startswith(COLD_PACKAGES))]:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional part only costs its command the import
            log(f"warm-up could not import {name}: {exc}")
    with contextlib.suppress(Exception):
        _render_once()
    with contextlib.suppress(Exception):
        import sqlglot

        sqlglot.parse_one("SELECT a, count(*) AS n FROM t WHERE b > 1 GROUP BY 1 ORDER BY 2 LIMIT 5", read="duckdb")


def _render_once() -> None:
    """rich imports its emoji table and the width data of non-ASCII text at their first use."""
    import io

    from rich.console import Console
    from rich.table import Table

    table = Table("région :bar_chart:")
    table.add_row("[b]Zürich[/b] ✓")
    Console(file=io.StringIO(), width=60).print(table, "[i]done[/i] :smile:")


def thread_count() -> int:
    """Native threads too (a library's own), which threading.active_count() does not see."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        import threading

        return threading.active_count()


def bind(base: Path) -> tuple[socket.socket, tuple[int, int]]:
    """Listen at HOME/daemon.sock, created 0600 (no moment of a wider mode); a stale file is replaced,
    which is safe because only the lock holder binds."""
    path = wire.socket_path(base)
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mask = os.umask(0o177)
    try:
        listener.bind(os.fspath(path))
    finally:
        os.umask(mask)
    os.chmod(path, 0o600)
    listener.listen(64)
    stat = os.stat(path)
    return listener, (stat.st_dev, stat.st_ino)


class Server:
    def __init__(self, base: Path, version: str, idle_s: float, lock_fd: int) -> None:
        from csvanalyst.daemon.keeper import KeeperHandle

        self.base = base
        self.version = version
        self.idle_s = idle_s
        self.lock_fd = lock_fd
        self.listener, self.identity = bind(base)
        self.keeper = KeeperHandle()
        self.keeper.start()  # now, while this process holds no request's descriptors
        self.children: set[int] = set()
        self.requests = 0
        self.started_at = time.time()
        self.last_active = time.monotonic()
        self.stopping = False

    def _inherited(self) -> list[int]:
        """Descriptors of this process that a forked process must close first."""
        return [self.listener.fileno(), self.lock_fd, *self.keeper.descriptors()]

    def serve(self) -> None:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        log(f"listening at {wire.socket_path(self.base)} (version {self.version}, idle {self.idle_s:g} s)")
        while not self.stopping:
            self._reap()
            if self.children:
                self.last_active = time.monotonic()
            left = self.idle_s - (time.monotonic() - self.last_active)
            if left <= 0:
                log("idle timeout")
                break
            readable, _, _ = select.select([self.listener], [], [], min(1.0, left))
            if readable:
                self._accept()
        self.shutdown()

    def _stop(self, _sig: int, _frame: Any) -> None:
        self.stopping = True

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        self.last_active = time.monotonic()
        fds: list[int] = []
        try:
            if not wire.same_user(conn):
                log("refused a connection from another user")
                return
            conn.settimeout(ACCEPT_READ_TIMEOUT_S)
            message, fds = wire.receive(conn, max_fds=3)
            if message is not None:
                self._dispatch(conn, message, fds)
        except (OSError, EOFError, ValueError) as exc:
            log(f"dropped a request: {type(exc).__name__}: {exc}")
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            conn.close()

    def _dispatch(self, conn: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
        op = message.get("op")
        if op == "status":
            wire.send(conn, self.status())
        elif op == "stop":
            wire.send(conn, {"stopping": os.getpid()})
            self.stopping = True
        elif op == "run" and message.get("version") != self.version:
            log(f"a client of version {message.get('version')} asked: retiring")
            wire.send(conn, {"restart": True})
            self.stopping = True
        elif op == "run" and len(fds) == 3:
            self._fork(conn, message, fds)

    def _fork(self, conn: socket.socket, message: dict[str, Any], fds: list[int]) -> None:
        if thread_count() != 1:  # a fork would copy a lock some other thread holds
            log("more than one thread: not forking; this worker retires")
            self.stopping = True
            return
        pools = self.keeper.connect()
        try:
            pid = os.fork()
        except OSError as exc:
            log(f"fork failed: {exc}")
            pid = -1
        if pid == 0:
            from csvanalyst.daemon.child import serve_request

            serve_request(conn, message, fds, pools, inherited=self._inherited())
        if pools is not None:
            pools.close()
        if pid > 0:
            self.children.add(pid)
            self.requests += 1

    def _reap(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.children.discard(pid)
        self.keeper.reap()

    def status(self) -> dict[str, Any]:
        self._reap()
        return {
            "running": True,
            "pid": os.getpid(),
            "version": self.version,
            "home": os.fspath(self.base),
            "socket": os.fspath(wire.socket_path(self.base)),
            "started_at": self.started_at,
            "idle_timeout_s": self.idle_s,
            "requests": self.requests,
            "active": len(self.children),
            "pool_pid": self.keeper.pid,
        }

    def shutdown(self) -> None:
        """Remove the socket (only if it is still ours), stop the pools, then let the lock go."""
        path = wire.socket_path(self.base)
        with contextlib.suppress(OSError):
            stat = os.stat(path)
            if (stat.st_dev, stat.st_ino) == self.identity:
                path.unlink()
        self.listener.close()
        self.keeper.stop()
        log(f"stopped after {self.requests} request(s)")
        os.close(self.lock_fd)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    base = Path(args[0]) if args else wire.home()
    base.mkdir(parents=True, exist_ok=True)
    lock_fd = take_lock(base)
    if lock_fd is None:
        return
    version = wire.code_version()  # what this process is about to import, read before importing it
    from csvanalyst.config import load_settings
    from csvanalyst.errors import CsvAnalystError

    os.environ["CSVANALYST_HOME"] = os.fspath(base)
    try:
        settings = load_settings()
    except CsvAnalystError as exc:  # commands run in their own process, which reports it
        log(f"not starting: {exc.message}")
        return
    warm_up()
    Server(base, version, settings.daemon_idle_s, lock_fd).serve()
    os._exit(0)  # the request processes are on their own; nothing here needs an orderly teardown


if __name__ == "__main__":
    main()
