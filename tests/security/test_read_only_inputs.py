"""A run can never change the user's input file, in any sandbox, by any route.

Each test points a write at the dataset file itself and then compares the file's bytes with what was
there before: DuckDB's COPY from SQL, the same COPY from Python's `con`, and a plain process writing
with open() where the sandbox lets code run (what an escaped Python run could do).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.schema import TableSource
from csvanalyst.executors.base import RunRequest
from csvanalyst.executors.local.executor import LocalExecutor, available_modes
from tests.integration.docker_support import docker_executor

ORIGINAL = b"a,b\n1,x\n2,y\n"
LOCAL = [m for m in ("bwrap", "unshare", "none") if available_modes()[m] is None]
PYTHON_SANDBOXES = ("bwrap", "docker")  # where Python runs at all
CODE_SANDBOXES = ("bwrap", "unshare", "docker")  # where a raw process is confined by the OS


@pytest.fixture(params=[*LOCAL, "docker"])
def executor(request: pytest.FixtureRequest) -> Iterator[object]:
    if request.param == "docker":
        with docker_executor() as docker:
            yield docker
    else:
        with LocalExecutor(request.param) as local:
            yield local


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes(ORIGINAL)
    return path


def mode(executor: object) -> str:
    return getattr(executor, "isolation", "docker")


def seen_path(executor: object, tables: dict[str, TableSource]) -> str:
    """The dataset's path as the run sees it (Docker mounts it elsewhere)."""
    if mode(executor) == "docker":
        from csvanalyst.executors.contract import mapped_request

        return mapped_request(RunRequest(code="", tables=tables)).tables["t"].path
    return tables["t"].path


def copy_over(path: str) -> str:
    return f"COPY (SELECT 'pwned' AS x) TO '{path}' (FORMAT csv, USE_TMP_FILE false)"


def test_sql_copy_onto_the_input_leaves_it_unchanged(executor: object, dataset: Path) -> None:
    tables = {"t": TableSource(path=str(dataset), format="csv")}
    result = executor.run(RunRequest(code=copy_over(seen_path(executor, tables)), tables=tables))  # type: ignore[attr-defined]
    assert result.status != "ok"
    assert dataset.read_bytes() == ORIGINAL


def test_python_copy_onto_the_input_leaves_it_unchanged(executor: object, dataset: Path) -> None:
    if mode(executor) not in PYTHON_SANDBOXES:
        pytest.skip(f"Python runs are refused under {mode(executor)}")
    tables = {"t": TableSource(path=str(dataset), format="csv")}
    code = f"con.execute({copy_over(seen_path(executor, tables))!r})\nresult = 1"
    result = executor.run(RunRequest(kind="python", code=code, tables=tables))  # type: ignore[attr-defined]
    assert result.status != "ok" or dataset.read_bytes() == ORIGINAL
    assert dataset.read_bytes() == ORIGINAL


def test_a_process_in_the_sandbox_cannot_write_the_input(executor: object, dataset: Path) -> None:
    if mode(executor) not in CODE_SANDBOXES:
        pytest.skip(f"{mode(executor)} runs no code but DuckDB's (no Python), so no process could try")
    tables = {"t": TableSource(path=str(dataset), format="csv")}
    target = seen_path(executor, tables)
    code = (
        "import sys\n"
        "for how in ('r+b', 'ab', 'wb'):\n"
        "    try:\n"
        "        open(sys.argv[1], how).write(b'pwned')\n"
        "        print('wrote', how)\n"
        "    except OSError as exc:\n"
        "        print('refused', how, exc.errno)\n"
    )
    python = "python3" if mode(executor) == "docker" else sys.executable
    out = executor.spawn([python, "-c", code, target], b"", RunRequest(code="", tables=tables))  # type: ignore[attr-defined]
    assert b"refused wb" in out.stdout, out
    assert b"wrote" not in out.stdout
    assert dataset.read_bytes() == ORIGINAL
