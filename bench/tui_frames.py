"""Terminal app frame times against baselines measured in the same run (ratios, not asserted).

* Result tables of 10k and 100k rows: `csvanalyst chat`'s paged ResultTable against Textual's DataTable
  holding every row (what a table widget costs by itself), from `show` to an idle screen, and one page
  down (our `]` key against DataTable's `pagedown`). `*_ratio` = ours / DataTable: below 1 is faster.
* A streamed answer: a turn whose scripted model streams a long markdown answer word by word, through the
  real Session, thread worker and TurnView, against the same words posted from a thread into a plain
  Static (the least a streamed text can cost to draw), each until its text is on screen. Reported: both
  turns' time, their ratio, and the longest blocked frame of each (the gap between ticks of a 5 ms sleep
  on the app's loop; the target is under 100 ms), and the longest full garbage collection in each
  (`*_full_gc_ms`: one frame holds a whole one; the app holds them off while a turn runs and runs the
  one that waited in a frame of its own after it: the window ends once that one has run).
  Wall-clock on a shared machine: `load_average_1m` is reported alongside.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import threading
import time
from typing import Any

from bench.tui import SIZE, Stalls, _until

SIZES = (10_000, 100_000)
ANSWER_WORDS = 600
CHUNK_WORDS = 2  # a model's stream arrives a token or two at a time


def _rows(count: int) -> tuple[list[dict[str, str]], list[list[Any]]]:
    types = (("id", "BIGINT"), ("name", "VARCHAR"), ("x", "DOUBLE"), ("d", "DATE"))
    rows = [[i, f"customer {i % 997}", i * 1.5, "2024-01-01"] for i in range(count)]
    return [{"name": n, "type": t} for n, t in types], rows


def _answer_text() -> str:
    """A long answer as models write them: paragraphs, a list, bold words and a run id. No figures: the
    agent sends an answer stating numbers no query returned back to the model, and the turn ends in an
    error instead of an answer."""
    sentence = "The **north** region leads by far in total sales, well ahead of the south (run 1a2b3c4d5e)."
    words: list[str] = []
    while len(words) < ANSWER_WORDS:
        words += [*sentence.split(" "), "\n\n-", "a", "point", "of", "the", "list\n\n"]
    return " ".join(words[:ANSWER_WORDS])


async def _timed(pilot: Any, stalls: Stalls, action: Any) -> tuple[float, float]:
    """(ms from the action to an idle screen, longest blocked frame in ms)."""
    stalls.start()
    started = time.perf_counter()
    result = action()
    if asyncio.iscoroutine(result):
        await result
    await pilot.pause()
    return (time.perf_counter() - started) * 1000, await stalls.stop()


async def _tables() -> dict[str, float]:
    from textual.widgets import DataTable

    from bench.tui import _app
    from csvanalyst.tui.widgets.result_table import ResultTable

    figures: dict[str, float] = {}
    app = _app()
    stalls = Stalls()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.dataset_info is not None)
        await pilot.pause(0.3)
        for count in SIZES:
            columns, rows = _rows(count)
            ours = ResultTable()
            plain: DataTable[Any] = DataTable(zebra_stripes=True, cursor_type="cell")
            await app.conversation.mount(ours)
            show_ours, blocked_ours = await _timed(
                pilot, stalls, lambda ours=ours, columns=columns, rows=rows: ours.show(columns, rows)
            )
            await ours.remove()
            await app.conversation.mount(plain)

            def fill(table: DataTable[Any] = plain, columns: Any = columns, rows: Any = rows) -> None:
                table.add_columns(*(c["name"] for c in columns))
                table.add_rows(rows)

            show_plain, blocked_plain = await _timed(pilot, stalls, fill)
            plain.focus()
            page_plain, _ = await _timed(pilot, stalls, lambda: pilot.press("pagedown"))
            await plain.remove()
            await app.conversation.mount(ours)
            ours.show(columns, rows)
            ours.focus()
            await pilot.pause()
            page_ours, _ = await _timed(pilot, stalls, lambda: pilot.press("right_square_bracket"))
            await ours.remove()
            label = f"{count // 1000}k"
            figures |= {
                f"table_{label}_show_ms": show_ours,
                f"table_{label}_show_datatable_ms": show_plain,
                f"table_{label}_show_ratio": show_ours / show_plain,
                f"table_{label}_max_blocked_ms": blocked_ours,
                f"table_{label}_max_blocked_datatable_ms": blocked_plain,
                f"table_{label}_page_ms": page_ours,
                f"table_{label}_page_datatable_ms": page_plain,
                f"table_{label}_page_ratio": page_ours / page_plain,
            }
    return figures


class FullCollections:
    """The longest full (oldest-generation) garbage collection while `watching`, in ms."""

    def __init__(self) -> None:
        self.longest = 0.0
        self.watching = False
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2 or not self.watching:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.longest = max(self.longest, (time.perf_counter() - self._started) * 1000)

    def __enter__(self) -> FullCollections:
        self.longest, self.watching = 0.0, True
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        self.watching = False
        gc.callbacks.remove(self)


def _chunks(text: str) -> list[str]:
    words = text.split(" ")
    return [" ".join(words[i : i + CHUNK_WORDS]) + " " for i in range(0, len(words), CHUNK_WORDS)]


async def _stream() -> dict[str, float]:
    from textual.widgets import Static

    from bench.tui import _app
    from csvanalyst.core.session import Session
    from csvanalyst.testing.scripted import ScriptedModel, answer
    from csvanalyst.tui import collector
    from csvanalyst.tui.widgets.prompt import PromptInput

    text = _answer_text()
    model = ScriptedModel([answer(text)])
    app = _app(Session(client=model))
    stalls = Stalls()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.dataset_info is not None)
        await pilot.pause(0.3)
        app.query_one(PromptInput).insert("a question answered at length")

        async def turn() -> None:
            await pilot.press("enter")
            # until the answer is on screen, not only received: a view that falls behind keeps drawing
            # and until the full collection held off during the turn has run (it runs in a frame of its own)
            await _until(
                pilot,
                lambda: (
                    app._turn_counter == 1
                    and app.active_turn is None
                    and not app.turns[1].answer_drawing
                    and collector.is_settled()
                ),
            )

        with FullCollections() as gc_ours:
            ours, blocked_ours = await _timed(pilot, stalls, turn)
        if app.turns[1].answer_text != text:
            raise AssertionError(f"the streamed turn ended {app.turns[1].status!r} without its answer")
        plain = Static("")
        await app.conversation.mount(plain)
        finished = threading.Event()

        def post_words() -> None:
            streamed = ""
            for chunk in _chunks(text):
                streamed += chunk
                app.call_from_thread(plain.update, streamed)
            finished.set()

        async def baseline() -> None:
            threading.Thread(target=post_words, daemon=True).start()
            await _until(pilot, finished.is_set)

        with FullCollections() as gc_base:
            base, blocked_base = await _timed(pilot, stalls, baseline)
    return {
        "stream_answer_ms": ours,
        "stream_static_ms": base,
        "stream_ratio": ours / base,
        "stream_max_blocked_ms": blocked_ours,
        "stream_max_blocked_static_ms": blocked_base,
        "stream_full_gc_ms": gc_ours.longest,
        "stream_full_gc_static_ms": gc_base.longest,
    }


def run() -> dict[str, float]:
    os.environ.setdefault("CSVANALYST_HOME", tempfile.mkdtemp(prefix="csvanalyst-bench-"))
    os.environ["CSVANALYST_ALLOW_MODEL_REQUESTS"] = "0"
    figures = asyncio.run(_tables())
    figures |= asyncio.run(_stream())
    figures["load_average_1m"] = os.getloadavg()[0]
    return {key: round(value, 2) for key, value in figures.items()}


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
