"""Plain data for `datasets show NAME`: what the CLI (or the server) renders as tables."""

from __future__ import annotations

from typing import Any

from csvanalyst.catalog.schema import DatasetInfo, TableSchema


def column_rows(table: TableSchema) -> list[dict[str, Any]]:
    """One dict per column: name, type, nulls, distinct, min, max, samples (None when not profiled)."""
    result = []
    for col in table.columns:
        stats = col.stats
        result.append(
            {
                "name": col.name,
                "type": col.type,
                "nulls": stats.null_count if stats else None,
                "distinct": stats.distinct_count if stats else None,
                "min": stats.min if stats else None,
                "max": stats.max if stats else None,
                "samples": list(stats.samples) if stats else [],
            }
        )
    return result


def describe_dataset(info: DatasetInfo) -> dict[str, Any]:
    """The whole dataset as JSON-ready data (also what `datasets show --json` prints)."""
    return {
        "name": info.name,
        "origin": info.origin,
        "description": info.description,
        "fingerprint": info.fingerprint,
        "tables": [
            {
                "name": table.name,
                "rows": table.row_count,
                "file": table.original_file,
                "cache": table.source.path if table.source.format == "parquet" else None,
                "notes": list(table.notes),
                "set_aside": table.rows.set_aside if table.rows else 0,
                "first_set_aside": [r.model_dump() for r in table.rows.first[:5]] if table.rows else [],
                "columns": column_rows(table),
            }
            for table in info.tables
        ],
    }
