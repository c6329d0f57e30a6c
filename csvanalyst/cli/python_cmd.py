"""`csvanalyst python`: one restricted Python snippet over a dataset, run in the sandbox and recorded."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from csvanalyst.cli.options import QueryFlags, query_options, settings_with
from csvanalyst.core.terminal import printable


@query_options
def python(
    code: Annotated[str, typer.Argument(help="A Python snippet that sets `result`, or - to read it from stdin.")],
    flags: QueryFlags,
    chart_out: Annotated[
        Path | None, typer.Option("--chart-out", help="Write the Vega-Lite spec the snippet assigned to `chart`.")
    ] = None,
) -> None:
    """Run restricted Python (pandas/numpy) over a dataset; tables are DataFrames, `con` is read-only DuckDB.

    Off unless CSVANALYST_ENABLE_PYTHON=1 (or ENABLE_PYTHON_EXECUTION=1); runs only in the docker sandbox
    or a local sandbox with bwrap/unshare isolation."""
    from csvanalyst.cli import render
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.cli.query_cmd import show_outcome
    from csvanalyst.core.query import execute

    text = sys.stdin.read() if code == "-" else code
    chosen = render.choose_format(flags.format, flags.output)
    settings = settings_with(max_rows=flags.max_rows, timeout=flags.timeout, sandbox=flags.sandbox)
    outcome = execute("python", text, flags.scope(), settings=settings)
    printed = outcome.result.stdout
    if printed:
        # Table output shares stdout with the snippet's prints; machine formats keep stdout clean.
        stream = sys.stdout if chosen == "table" and flags.output is None else sys.stderr
        shown = printable(printed)  # the snippet's prints are for a person; the result keeps its format
        stream.write(shown if shown.endswith("\n") else shown + "\n")
        stream.flush()
    if outcome.result.columns:
        show_outcome(outcome, chosen, flags.output, escape_formulas=not flags.no_escape_formulas)
    else:
        note(f"no `result` set · run {outcome.run_id}")
    if outcome.result.chart is not None:
        if chart_out is not None:
            chart_out.write_text(json.dumps(outcome.result.chart, indent=2) + "\n", encoding="utf-8")
            note(f"wrote the chart spec to {chart_out}")
        else:
            note("the snippet drew a chart; save it with --chart-out FILE.json")
