"""Running the app on a loopback port inside this process: for tests and the load benchmark.

The server is the real uvicorn on a real socket (port 0: the kernel picks a free one), so clients go
through HTTP parsing, streaming and disconnects exactly as they would in production.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
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
