"""One request to a local warm worker over its pipes, within the same deadline and cap as a one-shot run.

The worker answers a request line with a header line `{"returncode", "length", "timed_out"}` and then
`length` bytes (runner/worker.py). Everything here is a select loop on non-blocking pipes with a hard
deadline, so a worker that hangs, floods or dies cannot make the host wait past it; the caller retires
(kills) the worker after any answer that is not a clean `ok`.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import threading
import time
from typing import Any

from csvanalyst.executors.base import Limits
from csvanalyst.executors.contract import KILL_GRACE_S, STDERR_CAP, STDOUT_MARGIN, Outcome

HEADER_CAP = 4096
CANCEL_TICK_S = 0.05


class _Reply:
    """The header and body as they arrive on stdout; `done` once the whole body is in."""

    def __init__(self, buffer: bytearray, cap: int) -> None:
        self.buffer, self.cap = buffer, cap
        self.header: dict[str, Any] | None = None  # parsed JSON, checked where it is read
        self.start = 0

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        if self.header is None:
            newline = self.buffer.find(b"\n")
            if newline < 0:
                if len(self.buffer) > HEADER_CAP:
                    raise ValueError("header line too long")
                return
            self.header = json.loads(self.buffer[:newline])
            self.start = newline + 1

    @property
    def length(self) -> int:
        assert self.header is not None
        return int(self.header["length"])

    @property
    def overflow(self) -> bool:
        return self.header is not None and self.length > self.cap

    @property
    def done(self) -> bool:
        return self.header is not None and len(self.buffer) - self.start >= self.length

    def take(self) -> Outcome:
        """The run's outcome, as a one-shot runner's exit would have given it; the rest stays buffered."""
        assert self.header is not None
        end = self.start + self.length
        body = bytes(self.buffer[self.start : end])
        del self.buffer[:end]
        code = self.header.get("returncode")
        return Outcome(
            returncode=code if isinstance(code, int) else None,
            stdout=body,
            stderr=b"",
            timed_out=bool(self.header.get("timed_out")),
        )


def exchange(
    proc: subprocess.Popen[bytes],
    buffer: bytearray,
    payload: bytes,
    *,
    limits: Limits,
    cancel: threading.Event | None,
) -> Outcome:
    """Send one request line and read its answer; the deadline counts from now, as in `launch.finish`."""
    began = time.perf_counter()
    deadline = began + limits.timeout_s + KILL_GRACE_S
    reply = _Reply(buffer, limits.max_output_bytes + STDOUT_MARGIN)
    err = bytearray()
    outcome = _loop(proc, payload.replace(b"\n", b" ") + b"\n", reply, err, deadline, cancel)
    outcome.stderr = b"\n".join(part for part in (bytes(err), outcome.stderr) if part)
    outcome.pid = proc.pid
    outcome.elapsed_ms = round((time.perf_counter() - began) * 1000, 3)
    return outcome


def _loop(
    proc: subprocess.Popen[bytes],
    line: bytes,
    reply: _Reply,
    err: bytearray,
    deadline: float,
    cancel: threading.Event | None,
) -> Outcome:
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    pending = memoryview(line)
    with selectors.DefaultSelector() as sel:
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
        sel.register(proc.stdin, selectors.EVENT_WRITE)
        sel.register(proc.stdout, selectors.EVENT_READ)
        sel.register(proc.stderr, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return _flagged(timed_out=True)
            if cancel is not None and cancel.is_set():
                return _flagged(cancelled=True)
            for key, _ in sel.select(timeout=min(remaining, CANCEL_TICK_S if cancel is not None else 0.5)):
                if key.fileobj is proc.stdin:
                    pending = _write(sel, proc, pending)
                    continue
                try:
                    chunk = os.read(key.fd, 65536)
                except BlockingIOError:
                    continue
                if key.fileobj is proc.stderr:
                    err += chunk[: max(0, STDERR_CAP - len(err))]
                    if not chunk:
                        sel.unregister(proc.stderr)
                    continue
                if not chunk:
                    return _died(proc)
                try:
                    reply.feed(chunk)
                except ValueError:
                    return Outcome(returncode=None, stdout=b"", stderr=b"the warm worker sent an invalid reply")
                if reply.overflow:
                    return _flagged(overflow=True)
                if reply.done:
                    return reply.take()


def _write(sel: selectors.BaseSelector, proc: subprocess.Popen[bytes], pending: memoryview) -> memoryview:
    assert proc.stdin is not None
    try:
        pending = pending[os.write(proc.stdin.fileno(), pending) :]
    except BlockingIOError:
        return pending
    except OSError:
        pending = pending[len(pending) :]  # the worker is gone; its stdout EOF says so
    if not pending:
        sel.unregister(proc.stdin)
    return pending


def _died(proc: subprocess.Popen[bytes]) -> Outcome:
    """The worker closed stdout before answering: its exit status (or a kill) is the run's ending."""
    try:
        code = proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        code = None
    return Outcome(returncode=code, stdout=b"", stderr=b"")


def _flagged(**flags: bool) -> Outcome:
    """Timeout, cancel or overflow: the caller kills the worker, so its partial answer is dropped."""
    return Outcome(returncode=None, stdout=b"", stderr=b"", **flags)
