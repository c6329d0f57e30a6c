"""CSV export neutralises spreadsheet formulas (CWE-1236) and files are written atomically."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from csvanalyst.core.export import to_csv, write_atomic


def test_formula_cells_are_neutralised_but_numbers_are_not() -> None:
    text = to_csv(["name", "n"], [['=HYPERLINK("x")', -5], ["+1", 3.5], ["@SUM(A1)", None], ["-x", 0], ["ok", 1]])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ['\'=HYPERLINK("x")', "-5"]
    assert rows[2] == ["'+1", "3.5"]
    assert rows[3] == ["'@SUM(A1)", ""]
    assert rows[4] == ["'-x", "0"]
    assert rows[5] == ["ok", "1"]


def test_formula_escaping_can_be_turned_off() -> None:
    text = to_csv(["a"], [["=1+1"]], escape_formulas=False)
    assert text.splitlines()[1] == "=1+1"


def test_write_atomic_replaces_whole_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")
    write_atomic(target, "new content")
    assert target.read_text() == "new content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_atomic_failure_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old")

    with pytest.raises(TypeError):
        write_atomic(target, 123)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
