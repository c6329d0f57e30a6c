"""The start/stop half shared by the local servers tests talk to (LLM wire formats, the Kubernetes API)."""

from __future__ import annotations

import threading
from functools import partial
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class LoopbackServer:
    """Serves `self._httpd` on a daemon thread between start() and stop(); usable as a context manager."""

    _httpd: ThreadingHTTPServer
    _thread: threading.Thread | None = None
    thread_name = "loopback-server"

    def start(self) -> Self:
        # A short poll interval keeps shutdown (and so every test's teardown) quick.
        serve = partial(self._httpd.serve_forever, poll_interval=0.01)
        self._thread = threading.Thread(target=serve, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
