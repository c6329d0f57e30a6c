"""Escape sequences in data never reach the terminal; machine formats keep them exactly.

A CSV carries each class of control text in a cell and in a column name: OSC (window title), OSC 52
(clipboard), CSI (clear screen), BEL, backspace, a C1 CSI and a bidi override; NUL (which the loader
refuses in a file) comes from the query itself. Every human-facing output of
the real CLI (subprocess) must show them as visible escapes and write no raw control byte at all
(Rich writes no colour codes to a pipe, so any ESC on stdout/stderr came from the data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.core.terminal import printable

OSC_TITLE = "\x1b]0;owned\x07"
OSC_52 = "\x1b]52;c;cHduZWQ=\x07"
CSI_CLEAR = "\x1b[2J"
HOSTILE = {
    "osc": OSC_TITLE,
    "osc52": OSC_52,
    "csi": CSI_CLEAR,
    "bel": "ding\x07",
    "bs": "abc\x08\x08\x08xyz",
    "bidi": "evil\u202etxt.exe",
    "c1": "x\x9by",
}
RAW = ["\x1b", "\x07", "\x08", "\x00", "\u202e", "\x9b"]


def cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "CSVANALYST_ENABLE_PYTHON": "1", "COLUMNS": "300"}
    return subprocess.run(
        [sys.executable, "-m", "csvanalyst", *args], env=env, capture_output=True, text=True, timeout=180
    )


def assert_clean(out: subprocess.CompletedProcess[str], what: str) -> None:
    for stream in (out.stdout, out.stderr):
        leaked = [repr(c) for c in RAW if c in stream]
        assert not leaked, f"{what} wrote raw {leaked}: {stream!r}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    data = tmp_path / "hostile.csv"
    header = "kind,value,col\x1b]0;hdr\x07name\n"
    rows = "".join(f'{kind},"{value}",1\n' for kind, value in HOSTILE.items())
    data.write_text(header + rows, encoding="utf-8")
    home = tmp_path / "home"
    added = cli("datasets", "add", str(data), "--name", "hostile", home=home)
    assert added.returncode == 0, added.stderr
    assert_clean(added, "datasets add")
    return home


def test_printable_escapes_every_class_and_keeps_tab_and_newline() -> None:
    assert printable(OSC_52) == "\\x1b]52;c;cHduZWQ=\\x07"
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("a\tb\nc", one_line=True) == "a\\tb\\nc"
    assert printable("evil\u202etxt") == "evil\\u202etxt"
    assert printable("plain é 漢字") == "plain é 漢字"


def test_sql_table_and_error_outputs_are_escaped(home: Path) -> None:
    query = "SELECT *, 'a' || chr(0) || 'b' AS nul FROM hostile"
    table = cli("sql", "-d", "hostile", query, "--format", "table", home=home)
    assert table.returncode == 0, table.stderr
    assert_clean(table, "sql --format table")
    assert "\\x1b]52;c;cHduZWQ=\\x07" in table.stdout and "\\u202e" in table.stdout and "a\\x00b" in table.stdout
    failed = cli("sql", "-d", "hostile", "SELECT CAST(value AS INTEGER) FROM hostile", "--format", "table", home=home)
    assert failed.returncode != 0
    assert_clean(failed, "a query error")


def test_machine_formats_stay_exact(home: Path) -> None:
    as_csv = cli("sql", "-d", "hostile", "SELECT value FROM hostile", "--format", "csv", home=home)
    assert as_csv.returncode == 0, as_csv.stderr
    assert OSC_52 in as_csv.stdout and "\u202e" in as_csv.stdout
    as_json = cli("sql", "-d", "hostile", "SELECT value FROM hostile", "--format", "json", home=home)
    values = [row[0] for row in json.loads(as_json.stdout)["rows"]]
    assert values == list(HOSTILE.values())


def test_datasets_show_runs_show_ask_and_python_are_escaped(home: Path) -> None:
    shown = cli("datasets", "show", "hostile", home=home)
    assert shown.returncode == 0, shown.stderr
    assert_clean(shown, "datasets show")
    ran = cli("sql", "-d", "hostile", "SELECT * FROM hostile", "--format", "json", home=home)
    assert ran.returncode == 0
    run_show = cli("runs", "show", json.loads(ran.stdout)["run_id"], home=home)
    assert run_show.returncode == 0, run_show.stderr
    assert_clean(run_show, "runs show")
    asked = cli("ask", "-d", "hostile", "--provider", "offline", "SQL: SELECT value FROM hostile", home=home)
    assert_clean(asked, "ask")
    code = "print('|'.join(hostile['value']))\nresult = hostile"
    printed = cli("python", "-d", "hostile", code, "--format", "table", home=home)
    assert printed.returncode == 0, printed.stderr
    assert_clean(printed, "python")
    assert "\\x1b]0;owned\\x07" in printed.stdout


def test_the_tui_shows_hostile_cells_as_escapes(tmp_path: Path) -> None:
    from typing import Any

    from textual.message import Message
    from textual.pilot import Pilot

    from csvanalyst.catalog.registry import add_dataset
    from csvanalyst.core.query import DataScope
    from csvanalyst.tui.widgets.result_table import ResultTable
    from csvanalyst.tui.widgets.run_block import RunBlock
    from tests.functional.tui_helpers import ask, drive, until

    data = tmp_path / "hostile.csv"
    data.write_text("value\n" + "".join(f'"{v}"\n' for v in HOSTILE.values()), encoding="utf-8")
    add_dataset(data, name="hostile")
    screen: dict[str, str] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "SQL: SELECT value FROM hostile")
        table = pilot.app.query_one(RunBlock).query_one(ResultTable)
        await until(pilot, lambda: table.row_count == len(HOSTILE), "every hostile row in the table")
        screen["cells"] = "\n".join(str(table.get_row_at(i)[0]) for i in range(table.row_count))
        screen["rendered"] = pilot.app.export_screenshot()

    drive(scenario, scope=DataScope(dataset="hostile"))
    assert "\\x1b]52;c;cHduZWQ=\\x07" in screen["cells"]
    for shown in (screen["cells"], screen["rendered"]):
        assert not [repr(c) for c in RAW if c in shown]
