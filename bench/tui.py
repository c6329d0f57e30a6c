"""Terminal app figures: time to first paint, and time to render a 100k-row result, headless.

Reported, not asserted (see `make bench`). The table holds one page of the result at a time; the
second figure is one page turn, keypress to idle screen.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from typing import Any

ROWS = 100_000


def _app() -> Any:
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.tui.app import AnalystApp

    return AnalystApp(Session(provider="offline"), DataScope(dataset="retail"))


async def _first_paint() -> float:
    started = time.perf_counter()
    app = _app()
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        return (time.perf_counter() - started) * 1000


async def _render_rows() -> tuple[float, float]:
    from csvanalyst.tui.widgets.result_table import ResultTable

    rows = [[i, f"customer {i % 997}", i * 1.5, "2024-01-01"] for i in range(ROWS)]
    types = (("id", "BIGINT"), ("name", "VARCHAR"), ("x", "DOUBLE"), ("d", "DATE"))
    columns = [{"name": n, "type": t} for n, t in types]
    app = _app()
    async with app.run_test(size=(140, 45)) as pilot:
        table = ResultTable()
        await app.conversation.mount(table)
        started = time.perf_counter()
        table.show(columns, rows)
        await pilot.pause()  # until the screen is idle: the first page is laid out and painted
        shown = (time.perf_counter() - started) * 1000
        table.focus()
        started = time.perf_counter()
        await pilot.press("right_square_bracket")  # the next page, as a keypress: the UI's worst frame here
        return shown, (time.perf_counter() - started) * 1000


def run() -> dict[str, float]:
    os.environ.setdefault("CSVANALYST_HOME", tempfile.mkdtemp(prefix="csvanalyst-bench-"))
    os.environ["CSVANALYST_ALLOW_MODEL_REQUESTS"] = "0"
    first_paint = asyncio.run(_first_paint())
    render_ms, longest_ms = asyncio.run(_render_rows())
    return {
        "tui_first_paint_ms": round(first_paint, 1),
        "tui_render_100k_rows_ms": round(render_ms, 1),
        "tui_100k_next_page_ms": round(longest_ms, 1),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key}: {value}")
