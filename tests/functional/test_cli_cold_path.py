"""The one-shot CLI's cold path, as a real subprocess: it ends with os._exit, so these check that the
exit code and every byte of output survive that, that a reader closing the pipe early is no error, and
that a `sql` call imports none of the front ends or backends it does not use."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from csvanalyst.errors import ErrorCode, exit_code_for

REPO = Path(__file__).resolve().parents[2]
ORDERS = REPO / "datasets" / "retail" / "orders.csv"
UNUSED_HERE = ("textual", "fastapi", "uvicorn", "starlette", "mlflow", "kubernetes", "docker", "openai", "anthropic")


def run(*args: str, home: Path, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    argv = [sys.executable, *python_flags, "-m", "csvanalyst", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=180)


def imported_modules(importtime_stderr: str) -> set[str]:
    """Module names from `python -X importtime` output (one line per imported module)."""
    return {m.group(1) for m in re.finditer(r"^import time:.*\|\s*([\w.]+)\s*$", importtime_stderr, re.M)}


@pytest.fixture
def many_rows(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.csv"
    path.write_text("n,label\n" + "".join(f"{i},row {i}\n" for i in range(30_000)))
    return path


def test_every_row_reaches_a_file_before_the_process_ends(isolated_home: Path, many_rows: Path) -> None:
    proc = run("sql", "SELECT n, label FROM numbers ORDER BY n", "--file", str(many_rows), "--format", "csv",
               "--max-rows", "50000", home=isolated_home)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "n,label"
    assert lines[1:] == [f"{i},row {i}" for i in range(30_000)]


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("sql", "SELECT nope FROM orders", "-d", "retail"), exit_code_for(ErrorCode.REJECTED)),
        (("sql", "DROP TABLE orders", "-d", "retail"), exit_code_for(ErrorCode.REJECTED)),
        (("sql", "SELECT 1", "-d", "no_such_dataset"), exit_code_for(ErrorCode.NOT_FOUND)),
        (("sql", "SELECT 1", "--no-such-option"), exit_code_for(ErrorCode.USAGE)),
        (("sql", "SELECT count(*) AS n FROM orders", "-d", "retail"), 0),
        (("version",), 0),
    ],
)
def test_exit_codes_and_messages_survive_the_fast_exit(isolated_home: Path, args: tuple[str, ...], code: int) -> None:
    proc = run(*args, home=isolated_home)
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    assert (proc.stdout if code == 0 else proc.stderr).strip()


def test_a_reader_that_closes_the_pipe_early_is_no_error(isolated_home: Path, many_rows: Path) -> None:
    # stdout buffered, as in a user's shell: the broken pipe then surfaces inside the command (click's own
    # handler), not only at the final flush
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"} | {"CSVANALYST_HOME": str(isolated_home)}
    argv = [sys.executable, "-m", "csvanalyst", "sql", "SELECT n FROM numbers", "--file", str(many_rows),
            "--format", "csv", "--max-rows", "50000"]  # fmt: skip
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline() == b"n\n"
        proc.stdout.close()  # like `| head -1`
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=180) == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


def test_sql_imports_no_front_end_or_backend_it_does_not_use(isolated_home: Path) -> None:
    sql = "SELECT status, count(*) AS n FROM orders GROUP BY status ORDER BY status"  # one order, both runs
    query = ("sql", sql, "-d", "retail", "--format", "csv")
    first = run(*query, home=isolated_home, python_flags=("-X", "importtime"))
    assert first.returncode == 0, first.stderr[-2000:]
    loaded = {name.split(".")[0] for name in imported_modules(first.stderr)}
    assert not loaded & set(UNUSED_HERE)
    assert "sqlglot" in loaded  # the first time, the policy parses the query
    repeat = run(*query, home=isolated_home, python_flags=("-X", "importtime"))
    assert repeat.returncode == 0, repeat.stderr[-2000:]
    assert repeat.stdout == first.stdout
    again = {name.split(".")[0] for name in imported_modules(repeat.stderr)}
    assert "sqlglot" not in again  # the approval was remembered
    assert "duckdb" not in again  # the data is ready: only the sandbox runs DuckDB
    assert not again & {*UNUSED_HERE, "rich"}  # nothing to colour: a csv result and no note


def test_in_process_callers_keep_the_process(capsys: pytest.CaptureFixture[str]) -> None:
    from csvanalyst import __version__
    from csvanalyst.cli.app import main

    with pytest.raises(SystemExit) as done:
        main(["version"], exit_process=False)
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == __version__
