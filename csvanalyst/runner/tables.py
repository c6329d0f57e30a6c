"""Registering each dataset table as a DuckDB view, without ever splicing names or paths into SQL.

Views are built with the relation API (`read_csv`/`read_parquet` + `create_view`), so a hostile
table name or path is a value, never SQL text.
"""

from __future__ import annotations

from typing import Any

from .protocol import BadRequest, Table

# read_csv option names (as in DuckDB's SQL read_csv and its Python API) -> the Python API keyword.
# Options that create tables, add columns or widen file access (store_rejects, filename,
# hive_partitioning, union_by_name, files_to_sniff) are deliberately absent.
CSV_OPTIONS: dict[str, str] = {
    "delim": "delimiter",
    "delimiter": "delimiter",
    "sep": "delimiter",
    "quote": "quotechar",
    "quotechar": "quotechar",
    "escape": "escapechar",
    "escapechar": "escapechar",
    "header": "header",
    "skip": "skiprows",
    "skiprows": "skiprows",
    "encoding": "encoding",
    "compression": "compression",
    "decimal_separator": "decimal",
    "decimal": "decimal",
    "thousands": "thousands",
    "null_padding": "null_padding",
    "strict_mode": "strict_mode",
    "columns": "columns",
    "names": "names",
    "column_names": "names",
    "types": "dtype",
    "dtypes": "dtype",
    "dtype": "dtype",
    "column_types": "dtype",
    "auto_detect": "auto_detect",
    "auto_type_candidates": "auto_type_candidates",
    "dateformat": "date_format",
    "date_format": "date_format",
    "timestampformat": "timestamp_format",
    "timestamp_format": "timestamp_format",
    "nullstr": "na_values",
    "na_values": "na_values",
    "force_not_null": "force_not_null",
    "allow_quoted_nulls": "allow_quoted_nulls",
    "max_line_size": "max_line_size",
    "buffer_size": "buffer_size",
    "all_varchar": "all_varchar",
    "normalize_names": "normalize_names",
    "sample_size": "sample_size",
    "new_line": "lineterminator",
    "lineterminator": "lineterminator",
    "comment": "comment",
    "parallel": "parallel",
    "ignore_errors": "ignore_errors",
}


def csv_keywords(name: str, options: dict[str, Any]) -> dict[str, Any]:
    """Map the request's csv_options to read_csv keywords; an unknown key is a host bug."""
    keywords: dict[str, Any] = {}
    for key, value in options.items():
        target = CSV_OPTIONS.get(key.lower())
        if target is None:
            allowed = ", ".join(sorted(CSV_OPTIONS))
            raise BadRequest(f"table {name!r}: csv option {key!r} is not allowed (allowed: {allowed})")
        keywords[target] = value
    return keywords


def register_views(con: Any, tables: dict[str, Table]) -> None:
    """One temporary view per table; DuckDB quotes the view name itself."""
    for name, table in tables.items():
        if table.format == "parquet":
            relation = con.read_parquet(table.path)
        else:
            relation = con.read_csv(table.path, **csv_keywords(name, table.csv_options))
        relation.create_view(name, replace=False)


class TableUnreadable(Exception):
    """A dataset file could not be opened: not the query's fault, so it gets its own code."""


def register_views_or_explain(con: Any, tables: dict[str, Table]) -> None:
    import duckdb

    for name, table in tables.items():
        try:
            register_views(con, {name: table})
        except duckdb.OutOfMemoryException:
            raise
        except (duckdb.IOException, duckdb.InvalidInputException, duckdb.PermissionException) as exc:
            raise TableUnreadable(f"Table {name!r} could not be read from {table.path}: {exc}") from exc
