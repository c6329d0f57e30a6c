"""Writing a result shown in the terminal to CSV, JSON or Parquet, always atomically.

CSV and JSON go through core/export.py like every front end; Parquet is written by DuckDB from a
temporary CSV of the rows, with the run's column types.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from csvanalyst.core.export import to_csv, to_json_document, write_atomic
from csvanalyst.errors import UsageError

FORMATS = (".csv", ".json", ".parquet")
_SCALAR = ("BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DATE", "VARCHAR")


def write_result(path: Path, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise UsageError(
            f"Cannot export to {path.name!r}: unknown extension.",
            hint="Use a file name ending in .csv, .json or .parquet.",
        )
    if not path.expanduser().resolve().parent.is_dir():
        raise UsageError(f"The folder of {path} does not exist.", hint="Create it first, or pick another path.")
    names = [c["name"] for c in columns]
    if suffix == ".csv":
        write_atomic(path, to_csv(names, rows))
    elif suffix == ".json":
        write_atomic(path, to_json_document({"columns": columns, "rows": rows, "row_count": len(rows)}))
    else:
        _write_parquet(path.expanduser(), columns, rows)


def _duck_type(name: str) -> str:
    upper = name.upper()
    return upper if upper in _SCALAR or upper.startswith(("DECIMAL", "TIMESTAMP")) else "VARCHAR"


def _write_parquet(path: Path, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
    import duckdb

    types = {c["name"]: _duck_type(c["type"]) for c in columns}
    fd, tmp_csv = tempfile.mkstemp(suffix=".csv")
    tmp_out = path.with_name(f".{path.name}.tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(to_csv(list(types), rows, escape_formulas=False))
        with duckdb.connect() as con:
            con.execute(
                "COPY (SELECT * FROM read_csv(?, header = true, columns = ?)) TO ? (FORMAT parquet)",
                [tmp_csv, types, str(tmp_out)],
            )
        os.replace(tmp_out, path)
    finally:
        Path(tmp_csv).unlink(missing_ok=True)
        tmp_out.unlink(missing_ok=True)
