"""Running the app on a loopback port: for tests and the load benchmark.

`serve_in_thread` runs it inside this process; `ServeProcess` runs `csvanalyst serve` as a real child
process (so it can be SIGKILLed mid-turn). Either way the server is the real uvicorn on a real socket
(port 0: the kernel picks a free one), so clients go through HTTP parsing, streaming and disconnects
exactly as they would in production.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

STARTUP_LIMIT_S = 30.0


@dataclass(frozen=True)
class LiveServer:
    url: str
    server: uvicorn.Server


@contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1") -> Iterator[LiveServer]:
    config = uvicorn.Config(app, host=host, port=0, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn")
    thread.start()
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(url=f"http://{host}:{port}", server=server)
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_LIMIT_S)


_LISTENING = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


class ServeProcess:
    """`python -m csvanalyst serve --port 0 ARGS` in a child process; `url` once it listens.

    The child's log (JSON lines) is drained by a thread into `log_lines` so it can never block on a
    full pipe. `kill()` is SIGKILL: no shutdown hook runs, as in a crash or an OOM kill.
    """

    def __init__(
        self, args: Sequence[str] = (), env: dict[str, str] | None = None, command: Sequence[str] | None = None
    ) -> None:
        """`command` starts csvanalyst (default: this interpreter's `-m csvanalyst`), e.g. an installed script."""
        self.log_lines: list[str] = []
        self._listening = threading.Event()
        self.url = ""
        self.process = subprocess.Popen(
            [*(command or (sys.executable, "-m", "csvanalyst")), "serve", "--port", "0", *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._drain, daemon=True, name="serve-log").start()
        if not self._listening.wait(STARTUP_LIMIT_S) or not self.url:
            self.kill()
            raise RuntimeError("csvanalyst serve did not start:\n" + "".join(self.log_lines[-20:]))

    @property
    def pid(self) -> int:
        return self.process.pid

    def _drain(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout:  # closed at end of file, once the process has ended
            for line in self.process.stdout:
                self.log_lines.append(line)
                found = _LISTENING.search(line)
                if found and not self._listening.is_set():
                    self.url = found.group(1)
                    self._listening.set()
        self._listening.set()  # the process ended: stop waiting

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=STARTUP_LIMIT_S)

    def stop(self) -> None:
        """SIGTERM: uvicorn's graceful shutdown."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STARTUP_LIMIT_S)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
