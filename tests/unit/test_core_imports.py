"""The core never imports a front end's libraries (ARCHITECTURE.md), and `--help` stays light."""

from __future__ import annotations

import json
import subprocess
import sys

FRONT_END_MODULES = {"typer", "rich", "textual", "fastapi", "uvicorn"}


def _modules_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def test_core_query_path_imports_no_front_end() -> None:
    loaded = _modules_after(
        "import csvanalyst.core.query, csvanalyst.core.export, csvanalyst.store.runs, csvanalyst.executors.base"
    )
    assert not {m.split(".")[0] for m in loaded} & FRONT_END_MODULES


def test_cli_start_up_does_not_import_duckdb_or_sqlglot() -> None:
    loaded = _modules_after("import csvanalyst.cli.app")
    assert "duckdb" not in loaded
    assert "sqlglot" not in loaded
