"""Files that are not CSV turned into what the CSV path reads: JSON and NDJSON into Parquet (DuckDB's
JSON reader types them), each non-empty sheet of an Excel workbook into a CSV (python-calamine reads
it; the CSV path then finds its header and types and sets bad rows aside like any other file).

One table per input, except a workbook: one table per sheet, named `<file>_<sheet>` (just `<file>`
when it has one sheet with data).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from csvanalyst.catalog.csvsql import literal
from csvanalyst.catalog.names import normalize_name
from csvanalyst.catalog.parquet_input import is_parquet
from csvanalyst.errors import InputError

Kind = Literal["csv", "parquet"]
JSON_SUFFIXES = {".json", ".ndjson", ".jsonl"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
UNSUPPORTED = {
    ".xls": "Excel 97-2003 workbooks (.xls)",
    ".ods": "OpenDocument spreadsheets (.ods)",
    ".numbers": "Numbers documents",
    ".xml": "XML files",
    ".sav": "SPSS files",
    ".dta": "Stata files",
    ".sqlite": "SQLite databases",
    ".db": "database files",
}
SUPPORTED_TEXT = "CSV/TSV (optionally .gz or .zst), Parquet, JSON, NDJSON and Excel .xlsx"


@dataclass
class TableInput:
    """One table of a file: `path` is what the reader opens, `suffix` is added to the file's table name."""

    suffix: str
    path: Path
    kind: Kind
    label: str  # how messages name it: the file, or `file [sheet]`


def table_inputs(original: Path, work: Path) -> list[TableInput]:
    """The tables in `original`, converted into `work` where needed."""
    suffix = original.suffix.lower()
    if suffix in UNSUPPORTED:
        raise InputError(
            f"{original} is one of the {UNSUPPORTED[suffix]}, which cannot be read.",
            hint=f"Save it as one of: {SUPPORTED_TEXT}.",
        )
    if is_parquet(original):
        return [TableInput("", original, "parquet", original.name)]
    if suffix in EXCEL_SUFFIXES:
        return _sheets(original, work)
    if suffix in JSON_SUFFIXES:
        return [TableInput("", _json_to_parquet(original, work), "parquet", original.name)]
    return [TableInput("", original, "csv", original.name)]


def is_converted(path: Path) -> bool:
    """Whether `path` is read through a conversion (so not in place)."""
    suffix = path.suffix.lower()
    return suffix in JSON_SUFFIXES or suffix in EXCEL_SUFFIXES


def _json_to_parquet(original: Path, work: Path) -> Path:
    """A JSON array of objects, or one object per line, as a typed Parquet file."""
    import duckdb

    work.mkdir(parents=True, exist_ok=True)
    dest = work / f"{original.stem}.json.parquet"
    tmp = work / f".{dest.name}.{os.getpid()}.tmp"
    try:
        with duckdb.connect() as con:
            source = f"read_json({literal(str(original))}, format = 'auto', records = 'auto')"
            con.execute(f"COPY (SELECT * FROM {source}) TO {literal(str(tmp))} (FORMAT parquet)")
        os.replace(tmp, dest)
    except duckdb.Error as exc:
        raise InputError(
            f"{original} could not be read as JSON: {str(exc).splitlines()[0].split(': ', 1)[-1][:300]}",
            hint="Give an array of objects, or one JSON object per line (NDJSON), with the same keys in each.",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _sheets(original: Path, work: Path) -> list[TableInput]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(original))
        sheets = [(name, book.get_sheet_by_name(name).to_python()) for name in book.sheet_names]
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"{original} could not be read as an Excel workbook: {exc}.",
            hint=f"Open and save it again in Excel, or export it as CSV. Supported: {SUPPORTED_TEXT}.",
        ) from exc
    with_data = [(name, rows) for name, rows in sheets if any(_filled(row) for row in rows)]
    if not with_data:
        raise InputError(f"{original} has no sheet with data.", hint="Check that the workbook is not empty.")
    inputs = []
    for name, rows in with_data:
        suffix = "" if len(with_data) == 1 else f"_{normalize_name(name)}"
        path = _write_sheet(work / f"{original.stem}{suffix or '_sheet'}.csv", rows)
        inputs.append(TableInput(suffix, path, "csv", f"{original.name} [{name}]"))
    return inputs


def _filled(row: list[Any]) -> bool:
    return any(cell not in ("", None) for cell in row)


def _write_sheet(dest: Path, rows: list[list[Any]]) -> Path:
    """The sheet as CSV, trailing empty rows and columns cut (Excel's used range often runs past the data)."""
    while rows and not _filled(rows[-1]):
        rows = rows[:-1]
    width = max((max((i + 1 for i, c in enumerate(row) if c not in ("", None)), default=0) for row in rows), default=0)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        for row in rows:
            writer.writerow([_cell(c) for c in (list(row) + [""] * width)[:width]])
    os.replace(tmp, dest)
    return dest


def _cell(value: Any) -> str:
    """Excel stores every number as a float: whole ones are written as integers, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
