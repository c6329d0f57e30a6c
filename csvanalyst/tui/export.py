"""Writing a result shown in the terminal to CSV, JSON or Parquet, always atomically.

CSV and JSON go through core/export.py, Parquet through core/parquet_export.py, like every front end.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csvanalyst.core.export import to_csv, to_json_document, write_atomic
from csvanalyst.core.parquet_export import write_parquet
from csvanalyst.errors import UsageError

FORMATS = (".csv", ".json", ".parquet")


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
        write_parquet(path, columns, rows)
