"""Writing a result as a Parquet file with its column types, through an in-memory DuckDB (already a core
dependency), atomically and with the same file mode as every other export."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

# A DuckDB scalar type as results report it: DOUBLE, DECIMAL(18,3), TIMESTAMP WITH TIME ZONE. Anything
# else (nested types, or a name a compromised runner made up) is written as its JSON text.
_SCALAR_TYPE = re.compile(r"^[A-Z][A-Z0-9_ ]*(\(\d+(, ?\d+)?\))?$")


def write_parquet(path: Path, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
    """All rows, typed as the result's columns, to `path` (a temp file beside it, then a rename)."""
    import duckdb
    import pandas as pd

    from csvanalyst.core.export import atomic_target

    frame = pd.DataFrame(
        {f"c{i}": [_text(row[i]) for row in rows] for i in range(len(columns))}, dtype=object, index=range(len(rows))
    )
    select = ", ".join(_cast(i, c) for i, c in enumerate(columns)) or "1 AS empty"
    with atomic_target(path) as tmp, duckdb.connect() as db:
        db.register("result_rows", frame)
        db.execute(f"COPY (SELECT {select} FROM result_rows) TO ? (FORMAT parquet)", [str(tmp)])


def _cast(index: int, column: dict[str, str]) -> str:
    name = '"' + column["name"].replace('"', '""') + '"'
    kind = column.get("type", "VARCHAR").upper()
    kind = kind if _SCALAR_TYPE.match(kind) else "VARCHAR"
    return f"CAST(c{index} AS {kind}) AS {name}"


def _text(value: Any) -> str | None:
    """Cells as text DuckDB casts back exactly (repr of a float round-trips)."""
    if value is None:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return repr(value)
    return str(value)
