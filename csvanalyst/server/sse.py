"""Carrying a synchronous turn (`Session.ask`) to an async response, and framing Events as SSE.

The turn runs in its own thread and hands events over through an asyncio queue. Cancelling the bridge
(the client went away) makes the thread close the turn's generator, which the Session records as a
cancelled turn; a sandbox run already started finishes in the background and is recorded too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from csvanalyst.events import Done, ErrorEvent, Event

log = logging.getLogger("csvanalyst.server")

Produce = Callable[[threading.Event], Iterator[Event]]
_END = object()
SHUTDOWN = threading.Event()  # set on SIGTERM: no new work is started, work in flight is cancelled
_LIVE: set[TurnBridge] = set()
_LIVE_LOCK = threading.Lock()
SHUTTING_DOWN = ErrorEvent(
    code="interrupted",
    message="The server is shutting down; this turn was stopped and its run cancelled.",
    hint="Ask again in a moment.",
)


def stop_all_turns() -> int:
    """On SIGTERM: cancel every turn in flight; each stream then ends with an error and a done event."""
    SHUTDOWN.set()
    with _LIVE_LOCK:
        bridges = list(_LIVE)
    for bridge in bridges:
        bridge.stop_for_shutdown()
    return len(bridges)


class TurnBridge:
    """Runs `produce(cancel)` in a worker thread; `events()` yields what it produces, as it comes."""

    def __init__(self, produce: Produce, on_finish: Callable[[], None] | None = None) -> None:
        self._produce = produce
        self._on_finish = on_finish
        self.cancel_event = threading.Event()
        self.finished = False  # every event was handed to the response
        self._shutdown = False
        self._done_sent = False
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # keeps the request id on the worker's log lines
        self._thread = threading.Thread(target=context.run, args=(self._pump,), daemon=True, name="turn")
        with _LIVE_LOCK:
            _LIVE.add(self)
        if SHUTDOWN.is_set():
            self.stop_for_shutdown()  # a turn that arrives while draining ends at once, with error + done
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def stop_for_shutdown(self) -> None:
        self._shutdown = True
        self.cancel_event.set()

    def _put(self, item: Any) -> None:
        # RuntimeError: the event loop is gone (server shutting down), so nobody is listening.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def _pump(self) -> None:
        stream = self._produce(self.cancel_event)
        try:
            for event in stream:
                self._put(event)
                self._done_sent = self._done_sent or isinstance(event, Done)
                if self.cancel_event.is_set():
                    break
        except Exception as exc:  # a bug in the turn: tell the client instead of hanging the stream
            log.exception("turn failed")
            self._put(ErrorEvent(code="internal", message=f"Internal error: {type(exc).__name__}."))
            self._put(Done(status="failed"))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            if self._shutdown and not self._done_sent:
                self._put(SHUTTING_DOWN)
                self._put(Done(status="cancelled"))
            if self._on_finish is not None:
                self._on_finish()
            with _LIVE_LOCK:
                _LIVE.discard(self)
            self._put(_END)

    async def events(self, heartbeat_s: float | None = None) -> AsyncIterator[Event | None]:
        """Each event in order; None every `heartbeat_s` of silence (the caller sends a keep-alive)."""
        while True:
            try:
                item = await asyncio.wait_for(self._queue.get(), heartbeat_s)
            except TimeoutError:
                yield None
                continue
            if item is _END:
                self.finished = True
                return
            yield item

    async def collect(self) -> list[Event]:
        return [event async for event in self.events() if event is not None]


def frame(event: Event, index: int) -> str:
    """One SSE message: the event's type as the SSE event name, its JSON as data."""
    from csvanalyst.events import ErrorEvent
    from csvanalyst.server.public import public_text

    if isinstance(event, ErrorEvent):
        event = event.model_copy(update={"message": public_text(event.message), "hint": public_text(event.hint)})
    return f"id: {index}\nevent: {event.type}\ndata: {event.model_dump_json()}\n\n"


async def sse_frames(bridge: TurnBridge, heartbeat_s: float) -> AsyncIterator[str]:
    yield "retry: 3000\n\n"
    index = 0
    async for event in bridge.events(heartbeat_s):
        if event is None:
            yield ": keep-alive\n\n"
            continue
        index += 1
        yield frame(event, index)


class EventStreamResponse(StreamingResponse):
    """An SSE response that cancels its turn however the response ends (done, disconnect, error)."""

    def __init__(self, bridge: TurnBridge, heartbeat_s: float, on_abort: Callable[[], None] | None = None) -> None:
        super().__init__(
            sse_frames(bridge, heartbeat_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.bridge = bridge
        self.on_abort = on_abort

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.bridge.cancel()
            if not self.bridge.finished and self.on_abort is not None:
                self.on_abort()
