"""Driving the terminal app headless: real keypresses through Textual's Pilot, real Session and sandbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from textual.message import Message
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.tui.app import AnalystApp
from csvanalyst.tui.widgets.prompt import PromptInput

SIZE = (140, 45)


async def until(pilot: Pilot[Any], condition: Callable[[], bool], what: str, rounds: int = 1500) -> None:
    """Let the app run until `condition` holds; bounded by rounds of the event loop, not by a clock."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def type_text(pilot: Pilot[Any], text: str, submit: bool = True) -> None:
    """Key by key, as a person types. Long text (paths, SQL) is pasted, then sent with a real Enter."""
    if len(text) > 40:
        pilot.app.query_one(PromptInput).insert(text)
    else:
        await pilot.press(*["space" if ch == " " else ch for ch in text])
    if submit:
        await pilot.press("enter")


async def ask(pilot: Pilot[Any], text: str) -> None:
    """Type a question, send it, and wait for its turn to end."""
    app = pilot.app
    assert isinstance(app, AnalystApp)
    started = app._turn_counter
    await type_text(pilot, text)
    await until(pilot, lambda: app._turn_counter > started and app.active_turn is None, f"turn {text!r} ends")
    await pilot.pause()


def drive(
    scenario: Callable[[Pilot[Any], list[Message]], Awaitable[None]],
    *,
    session: Session | None = None,
    scope: DataScope | None = None,
    thread_id: str | None = None,
    size: tuple[int, int] = SIZE,
) -> list[Message]:
    """Run a scenario against a fresh app; returns every message the app's widgets received."""
    session = session or Session(provider="offline", keep_warm=True)
    app = AnalystApp(session, scope or DataScope(dataset="retail"), thread_id=thread_id)
    seen: list[Message] = []

    async def main() -> None:
        async with app.run_test(size=size, message_hook=seen.append) as pilot:
            await until(pilot, lambda: app.dataset_info is not None, "the dataset loads")
            await scenario(pilot, seen)
            for worker in list(app.workers):
                # a worker superseded by a newer one of its group (a chart redrawn for a new size) is
                # cancelled, not failed; a failed worker still raises here
                with contextlib.suppress(WorkerCancelled):
                    await worker.wait()

    try:
        asyncio.run(main())
    finally:
        session.close()
    return seen


def of_type(seen: list[Message], kind: type) -> list[Any]:
    return [m for m in seen if isinstance(m, kind)]
