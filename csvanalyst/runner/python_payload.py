"""A snippet's answer as the runner protocol's result: columns and rows, with the SQL value rules.

Runs in the snippet's own process (python_child), after the snippet: what it set as `result` (a
DataFrame, Series, ndarray, dict, list or scalar) and `chart` (a Vega-Lite dict) become JSON values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

from .protocol import result
from .values import json_safe

MAX_CHART_BYTES = 1024 * 1024


def to_payload(value: Any, max_rows: int) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    if value is None:
        return result("ok")
    if isinstance(value, pd.Series):
        name = str(value.name) if value.name is not None else "value"
        value = value.to_frame(name=name)
    if isinstance(value, pd.DataFrame):
        return _frame(value, max_rows)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, dict):
        rows = [[_cell(k), _cell(v)] for k, v in value.items()]
        return _rows(["key", "value"], rows, max_rows)
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), max_rows)
    return _rows(["result"], [[_cell(value)]], max_rows)


def _frame(frame: Any, max_rows: int) -> dict[str, Any]:
    import pandas as pd

    if not isinstance(frame.index, pd.RangeIndex) or frame.index.name is not None:
        frame = frame.reset_index()
    names = [_column_name(c) for c in frame.columns]
    names = _unique(names)
    types = [
        _dtype_name(frame[c].dtype) if not isinstance(frame[c], pd.DataFrame) else "VARCHAR" for c in frame.columns
    ]
    head = frame.head(max_rows + 1)
    rows = [[_cell(v) for v in row] for row in head.itertuples(index=False, name=None)]
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    columns = [{"name": n, "type": t} for n, t in zip(names, types, strict=False)]
    return result("ok", columns=columns, rows=rows, row_count=len(rows), truncated=truncated)


def _sequence(items: list[Any], max_rows: int) -> dict[str, Any]:
    if items and all(isinstance(i, dict) for i in items):
        names: list[str] = []
        for item in items:
            names += [str(k) for k in item if str(k) not in names]
        rows = [[_cell(item.get(n, item.get(n))) for n in names] for item in items]
        return _rows(names, rows, max_rows)
    if items and all(isinstance(i, (list, tuple)) for i in items):
        width = max(len(i) for i in items)
        rows = [[_cell(v) for v in i] + [None] * (width - len(i)) for i in items]
        return _rows([f"col{n + 1}" for n in range(width)], rows, max_rows)
    return _rows(["value"], [[_cell(i)] for i in items], max_rows)


def _rows(names: list[str], rows: list[list[Any]], max_rows: int) -> dict[str, Any]:
    truncated = len(rows) > max_rows
    rows = rows[:max_rows]
    types = [_python_type([r[i] for r in rows if i < len(r)]) for i in range(len(names))]
    columns = [{"name": n, "type": t} for n, t in zip(names, types, strict=False)]
    return result("ok", columns=columns, rows=rows, row_count=len(rows), truncated=truncated)


def _cell(value: Any) -> Any:
    """numpy/pandas scalars to Python ones, missing values to None, then the SQL value rules."""
    import numpy as np
    import pandas as pd

    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else json_safe(value.to_pydatetime())
    if isinstance(value, pd.Timedelta):
        return None if pd.isna(value) else json_safe(value.to_pytimedelta())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal, bool, int, str)):
        return json_safe(value)
    if isinstance(value, float):
        return json_safe(value)
    if isinstance(value, np.ndarray):
        return [_cell(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return json_safe(value)


def _column_name(column: Any) -> str:
    if isinstance(column, tuple):
        return "_".join(str(c) for c in column if str(c) != "")
    return str(column)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        out.append(name)
    return out


def _dtype_name(dtype: Any) -> str:
    kind = getattr(dtype, "kind", "O")
    text = str(dtype).lower()
    if kind == "b" or text == "boolean":
        return "BOOLEAN"
    if kind in "iu" or text.startswith(("int", "uint")):
        return "BIGINT"
    if kind == "f" or text.startswith("float"):
        return "DOUBLE"
    if kind == "M" or text.startswith("datetime"):
        return "TIMESTAMP"
    if kind == "m":
        return "INTERVAL"
    return "VARCHAR"


def _python_type(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "BOOLEAN"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "BIGINT"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "DOUBLE"
    return "VARCHAR"


def chart(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"`chart` must be a Vega-Lite spec (a dict), got {type(value).__name__}.")
    safe: dict[str, Any] = _cell(value)  # a dict stays a dict
    if len(json.dumps(safe, allow_nan=False)) > MAX_CHART_BYTES:
        raise ValueError(f"`chart` is larger than {MAX_CHART_BYTES} bytes.")
    return safe
