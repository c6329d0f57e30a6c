"""The core never imports a front end's libraries (ARCHITECTURE.md), and `--help` stays light.

The check drives whole turns in a fresh interpreter rather than importing modules: the core imports
most of what it uses on first use, so only a real `ask` (planning, the sandbox run, the recorded run
and thread, the default chart, the typed reads a front end makes afterwards) shows what the layers
below the front ends load.
"""

from __future__ import annotations

import json
import subprocess
import sys

FRONT_END_MODULES = {"typer", "rich", "textual", "fastapi", "uvicorn", "starlette"}
OUR_FRONT_ENDS = ("csvanalyst.cli", "csvanalyst.tui", "csvanalyst.server")

# A plain-language question the offline planner answers with a chart, then SQL in the same thread.
WHOLE_ASK = """
import json, sys
from csvanalyst.core.query import DataScope
from csvanalyst.core.session import Session

with Session(provider="offline") as session:
    scope = DataScope(dataset="retail")
    events = list(session.ask("orders per month", scope))
    thread_id = events[-1].thread_id
    events += session.ask("SQL: SELECT count(*) AS n FROM orders", scope, thread_id=thread_id)
    transcript = session.records.transcript(thread_id)
    recent = session.records.recent_runs(limit=5)
print(json.dumps({
    "kinds": [type(e).__name__ for e in events],
    "done": [e.status for e in events if type(e).__name__ == "Done"],
    "turns": len(transcript.turns),
    "runs": len(recent),
}))
print(json.dumps(sorted(sys.modules)))
"""


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_a_whole_ask_through_the_session_imports_no_front_end() -> None:
    result = subprocess.run([sys.executable, "-c", WHOLE_ASK], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    summary_line, modules_line = result.stdout.strip().splitlines()[-2:]
    summary = json.loads(summary_line)
    # the turns really ran: a recorded run, a chart and an answer, both turns stored in one thread
    assert summary["done"] == ["answered", "answered"], summary
    assert {"RunFinished", "Chart", "Answer"} <= set(summary["kinds"]), summary
    assert summary["turns"] == 2 and summary["runs"] == 2, summary
    loaded = json.loads(modules_line)
    leaked = sorted({m.split(".")[0] for m in loaded} & FRONT_END_MODULES)
    assert not leaked, f"the core imported {leaked} during a turn"
    ours = [m for m in loaded if m.startswith(OUR_FRONT_ENDS)]
    assert not ours, f"the core imported front-end modules {ours} during a turn"


def test_cli_start_up_does_not_import_duckdb_or_sqlglot() -> None:
    loaded = _modules_after("import csvanalyst.cli.app")
    assert "duckdb" not in loaded
    assert "sqlglot" not in loaded
