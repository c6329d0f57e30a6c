"""Talking to a container's stdin/stdout over the daemon's attach socket, with a deadline and a cap.

Without a TTY the daemon multiplexes stdout and stderr into frames (8-byte header: stream id, three
zero bytes, big-endian length). Reading is a select loop so a silent container cannot make the host
wait past its deadline (nor past the caller's cancel), and stdout is capped so a flood stops at the
cap instead of filling memory.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from typing import Any

from csvanalyst.executors.contract import STDERR_CAP

CHUNK = 256 * 1024


class Overflow(Exception):
    """stdout passed its cap."""


class Deadline(Exception):
    """The deadline passed before the wanted output arrived."""


class Cancelled(Exception):
    """The caller set its cancel event while we waited for output."""


class Stream:
    """One attach connection: writes go to the container's stdin, reads are demultiplexed."""

    def __init__(self, attached: Any, cancel: threading.Event | None = None) -> None:
        self.cancel = cancel
        self._attached = attached  # keeps the HTTP response (and so the socket) alive
        self.sock: socket.socket = getattr(attached, "_sock", attached)
        self.stdout = bytearray()
        self.stderr = bytearray()
        self._pending = bytearray()
        self.eof = False

    def send(self, data: bytes, *, close: bool) -> threading.Thread:
        """Write from a thread, so a container that writes before it reads cannot deadlock us."""

        def feed() -> None:
            with contextlib.suppress(OSError):
                self.sock.sendall(data)
                if close:
                    self.sock.shutdown(socket.SHUT_WR)

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        return writer

    def pump(self, deadline: float, max_stdout: int) -> None:
        """Read what is available (waiting at most until the deadline); sets eof at the end of stream."""
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled()
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise Deadline()
        tick = 0.1 if self.cancel is not None else 0.5
        ready, _, _ = select.select([self.sock], [], [], min(remaining, tick))
        if not ready:
            return
        try:
            chunk = self.sock.recv(CHUNK)
        except OSError:
            chunk = b""
        if not chunk:
            self.eof = True
            return
        self._pending += chunk
        self._split(max_stdout)

    def _split(self, max_stdout: int) -> None:
        while len(self._pending) >= 8:
            kind, size = struct.unpack(">BxxxL", self._pending[:8])
            if kind == 1 and len(self.stdout) + size > max_stdout:
                raise Overflow()
            if len(self._pending) < 8 + size:
                return
            body = bytes(self._pending[8 : 8 + size])
            del self._pending[: 8 + size]
            if kind == 2:
                if len(self.stderr) < STDERR_CAP:
                    self.stderr += body[: STDERR_CAP - len(self.stderr)]
            else:
                self.stdout += body

    def read_to_eof(self, deadline: float, max_stdout: int) -> None:
        while not self.eof:
            self.pump(deadline, max_stdout)

    def take_line(self, deadline: float, max_stdout: int) -> bytes:
        """The next newline-terminated stdout line (without the newline)."""
        while b"\n" not in self.stdout:
            if self.eof:
                raise EOFError("the container closed its output")
            self.pump(deadline, max_stdout)
        line, _, rest = bytes(self.stdout).partition(b"\n")
        self.stdout = bytearray(rest)
        return line

    def take(self, size: int, deadline: float, max_stdout: int) -> bytes:
        """Exactly size stdout bytes."""
        while len(self.stdout) < size:
            if self.eof:
                raise EOFError("the container closed its output")
            self.pump(deadline, max_stdout)
        data = bytes(self.stdout[:size])
        del self.stdout[:size]
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(Exception):
            self._attached.close()


def remove(container: Any) -> None:
    """Kill (SIGKILL, no grace: a process may ignore SIGTERM) and remove, whatever state it is in."""
    with contextlib.suppress(Exception):
        container.remove(force=True)
