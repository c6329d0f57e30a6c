"""Terminal app figures, headless: time to first paint, and how long the UI is ever blocked.

Reported, not asserted (see `make bench`).

* `tui_first_paint_ms`: a fresh Python process (interpreter start, imports, the Session as `csvanalyst
  chat` builds it, the dataset check) until the app composes its first frame. `tui_sidebar_ready_ms`: the
  same process until the sidebar shows the dataset's tables (read by a worker after the first frame).
  Median of FIRST_PAINT_RUNS. `tui_first_paint_tmux_ms`: the real `csvanalyst chat` command in a tmux
  terminal until the prompt is on screen (only when tmux is installed; polled every 20 ms).
* `tui_render_100k_rows_ms`: a 100k-row result into a result table until the screen is idle (the table
  holds one page at a time); `tui_100k_next_page_ms`: one page turn, keypress to idle screen.
* `tui_max_blocked_*_ms`: the longest gap between ticks of a 5 ms asyncio sleep on the app's own event
  loop, i.e. the longest the UI could not draw or read a key (a worker holding the GIL counts too):
  while a 100k-row result is shown, paged and sorted; and while whole turns run (a question through the
  offline planner and the sandbox, then `SQL:` returning 100k rows, then the "load all rows" action
  bringing the 100k rows into the table). The target is 100 ms. Wall-clock, so CPU contention from other
  processes shows up in it: `load_average_1m` is reported alongside.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROWS = 100_000
FIRST_PAINT_RUNS = 3
SIZE = (140, 45)

# Run in a fresh interpreter: builds what `csvanalyst chat -d retail --provider offline` builds, stamps the
# wall-clock time of the first composed frame and of the sidebar holding the dataset, and exits.
_PROBE = r"""
import time, json, sys
from pathlib import Path
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session
from csvanalyst.tui import app as app_module
from csvanalyst.tui.app import AnalystApp

class Probe(AnalystApp):
    CSS_PATH = str(Path(app_module.__file__).with_name("app.tcss"))  # a class defined in -c has no file
    first_frame = None
    def _display(self, screen, renderable):
        if renderable is not None and self.first_frame is None and not self._batch_count:
            self.first_frame = time.time()
        super()._display(screen, renderable)

scope = DataScope(dataset="retail")
scope.resolve()
marks = {}
with Session(provider="offline", keep_warm=True) as session:
    app = Probe(session, scope)
    def check():
        if app.dataset_info is not None and "sidebar" not in marks:
            marks["sidebar"] = time.time()
            app.exit()
    app.call_later(lambda: app.set_interval(0.005, check))
    app.run(headless=True, size=(140, 45))
    marks["first_frame"] = app.first_frame
print(json.dumps(marks))
"""


def _first_paint_once() -> tuple[float, float]:
    started = time.time()
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True).stdout
    marks = json.loads(out.strip().splitlines()[-1])
    return (marks["first_frame"] - started) * 1000, (marks["sidebar"] - started) * 1000


def _first_paint_tmux() -> float | None:
    """`csvanalyst chat` in a real terminal: spawn to the prompt's placeholder on screen."""
    cli = Path(sys.executable).with_name("csvanalyst")
    if shutil.which("tmux") is None or not cli.exists():
        return None
    session = f"csvanalyst-bench-{uuid.uuid4().hex[:8]}"
    env = f"CSVANALYST_HOME={os.environ['CSVANALYST_HOME']} CSVANALYST_ALLOW_MODEL_REQUESTS=0 TERM=xterm-256color"
    started = time.perf_counter()
    subprocess.run(
        [
            "tmux",
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "140",
            "-y",
            "45",
            f"env {env} {cli} chat -d retail --provider offline",
        ],
        check=True,
    )
    try:
        while time.perf_counter() - started < 30:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
            ).stdout
            if "ask in plain language" in screen:
                return (time.perf_counter() - started) * 1000
            time.sleep(0.02)
        return None
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


class Stalls:
    """The longest gap between ticks of a short asyncio sleep on the running loop: blocked UI time."""

    TICK = 0.005

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(self.TICK)
            now = time.perf_counter()
            self.worst = max(self.worst, now - last - self.TICK)
            last = now

    def start(self) -> None:
        self.worst = 0.0
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> float:
        await asyncio.sleep(self.TICK * 2)  # one more tick, so a block at the very end is counted
        assert self._task is not None
        self._task.cancel()
        return self.worst * 1000


def _app(session: Any = None) -> Any:
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.tui.app import AnalystApp

    return AnalystApp(session or Session(provider="offline"), DataScope(dataset="retail"))


async def _until(pilot: Any, condition: Callable[[], bool], rounds: int = 3000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("the app never got there")


async def _render_rows() -> dict[str, float]:
    from csvanalyst.tui.widgets.result_table import ResultTable

    rows = [[i, f"customer {i % 997}", i * 1.5, "2024-01-01"] for i in range(ROWS)]
    types = (("id", "BIGINT"), ("name", "VARCHAR"), ("x", "DOUBLE"), ("d", "DATE"))
    columns = [{"name": n, "type": t} for n, t in types]
    app = _app()
    stalls = Stalls()
    async with app.run_test(size=SIZE) as pilot:
        await _until(pilot, lambda: app.dataset_info is not None)
        await pilot.pause(0.3)  # the startup workers and their imports are done
        table = ResultTable()
        await app.conversation.mount(table)
        stalls.start()
        started = time.perf_counter()
        table.show(columns, rows)
        await pilot.pause()  # until the screen is idle: the first page is laid out and painted
        shown = (time.perf_counter() - started) * 1000
        blocked_show = await stalls.stop()
        table.focus()
        await pilot.pause()
        stalls.start()
        started = time.perf_counter()
        await pilot.press("right_square_bracket")  # the next page, as a keypress
        next_page = (time.perf_counter() - started) * 1000
        blocked_page = await stalls.stop()
        stalls.start()
        started = time.perf_counter()
        await pilot.press("s")  # sort the whole result by the cursor's column (in a thread worker)
        await _until(pilot, lambda: table._sorted_by is not None)
        await pilot.pause()
        sort = (time.perf_counter() - started) * 1000
        blocked_sort = await stalls.stop()
    return {
        "tui_render_100k_rows_ms": shown,
        "tui_100k_next_page_ms": next_page,
        "tui_100k_sort_ms": sort,
        "tui_max_blocked_100k_show_ms": blocked_show,
        "tui_max_blocked_100k_next_page_ms": blocked_page,
        "tui_max_blocked_100k_sort_ms": blocked_sort,
    }


def _idle(app: Any, collector: Any) -> bool:
    """No turn runs, and the full collection held off during the last one has run."""
    return app.active_turn is None and bool(collector.is_settled())


async def _turns() -> dict[str, float]:
    from csvanalyst.config import get_settings
    from csvanalyst.core.session import Session
    from csvanalyst.tui import collector
    from csvanalyst.tui.widgets.prompt import PromptInput
    from csvanalyst.tui.widgets.result_table import ResultTable
    from csvanalyst.tui.widgets.run_block import RunBlock

    settings = get_settings().model_copy(update={"max_rows": ROWS})  # the default row cap is 10,000
    session = Session(settings=settings, provider="offline", keep_warm=True)
    app = _app(session)
    stalls = Stalls()
    figures: dict[str, float] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await _until(pilot, lambda: app.dataset_info is not None)
            await pilot.pause(0.3)
            for name, question in (
                ("question", "how many orders per region"),
                ("100k_sql", f"SQL: SELECT range AS id, range * 1.5 AS x FROM range({ROWS})"),
            ):
                asked = app._turn_counter
                app.query_one(PromptInput).insert(question)
                stalls.start()
                started = time.perf_counter()
                await pilot.press("enter")
                # until the turn ended and the full collection held off during it has run
                await _until(pilot, lambda asked=asked: app._turn_counter > asked and _idle(app, collector))
                await pilot.pause()
                figures[f"tui_turn_{name}_ms"] = (time.perf_counter() - started) * 1000
                figures[f"tui_max_blocked_turn_{name}_ms"] = await stalls.stop()
            block = list(app.query(RunBlock))[-1]
            stalls.start()
            block.action_load_all()  # what the `a` key does: re-run the SQL, every row into the table
            await _until(pilot, lambda: block.complete and len(block.query_one(ResultTable).rows_all) == ROWS)
            await pilot.pause()
            figures["tui_max_blocked_load_all_100k_ms"] = await stalls.stop()
    finally:
        session.close()
    return figures


def run() -> dict[str, float]:
    os.environ.setdefault("CSVANALYST_HOME", tempfile.mkdtemp(prefix="csvanalyst-bench-"))
    os.environ["CSVANALYST_ALLOW_MODEL_REQUESTS"] = "0"
    _first_paint_once()  # the demo dataset is built and cached once, outside the timed runs
    paints = [_first_paint_once() for _ in range(FIRST_PAINT_RUNS)]
    figures = {
        "tui_first_paint_ms": statistics.median(p[0] for p in paints),
        "tui_sidebar_ready_ms": statistics.median(p[1] for p in paints),
    }
    tmux = _first_paint_tmux()
    if tmux is not None:
        figures["tui_first_paint_tmux_ms"] = tmux
    figures.update(asyncio.run(_render_rows()))
    figures.update(asyncio.run(_turns()))
    figures["load_average_1m"] = os.getloadavg()[0]  # stalls are wall-clock: a busy machine shows in them
    return {key: round(value, 1) for key, value in figures.items()}


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
