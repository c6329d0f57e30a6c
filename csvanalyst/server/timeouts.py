"""Time limits on reading a request, so half-open connections cannot pile up (slowloris).

uvicorn closes a keep-alive connection that stays idle between requests, but nothing bounds how long
a client may take to send a request's headers or body, nor a connection that never sends a byte. This
protocol (uvicorn's own h11 protocol plus one timer per connection) closes a connection whose headers
are not complete `header_s` after its first byte (or after it opened), or whose body is not complete
`body_s` after its headers. Time spent answering is not limited here: runs have their own limits.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 120.0
IDLE_TIMEOUT_S = 5  # uvicorn's keep-alive: an idle connection between requests is closed after this


class BoundedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a read deadline per request (see the module docstring)."""

    header_s: float = HEADER_TIMEOUT_S
    body_s: float = BODY_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_s)

    def data_received(self, data: bytes) -> None:
        before = self.cycle
        if self._read_deadline is None and (before is None or before.response_complete):
            self._arm(self.header_s)  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return
        if cycle is not before:  # its headers have just been read
            self._arm(self.body_s) if cycle.more_body else self._disarm()
        elif not cycle.more_body:
            self._disarm()

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._read_deadline = self.loop.call_later(seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def _too_slow(self) -> None:
        self._read_deadline = None
        if not self.transport.is_closing():
            self.transport.abort()


def bounded_protocol(header_s: float = HEADER_TIMEOUT_S, body_s: float = BODY_TIMEOUT_S) -> type[H11Protocol]:
    """The protocol class for uvicorn's `http=` setting, with these limits."""
    return type("BoundedH11", (BoundedH11Protocol,), {"header_s": header_s, "body_s": body_s})
