"""`--file PATH`: query CSV files in place, without registering or ingesting them.

This must be fast on a 10 GB file: the pre-checks and DuckDB's sniffer read only the head, and the
profile (nulls, distinct counts, ranges, category values: what a model is told about the data, as for a
registered dataset) scans a file whole only up to PROFILE_FULL_BYTES; a bigger one is profiled on its
first PROFILE_SAMPLE_ROWS rows and its row count is left unknown. Schema and profile are cached by the
file's fingerprint, so a repeat question on an unchanged file reads neither again. The runner reads the
CSV itself with the explicit options found here.
"""

from __future__ import annotations

import os
from pathlib import Path

from csvanalyst.catalog.csvsql import read_csv_sql
from csvanalyst.catalog.fingerprint import combine, file_fingerprint
from csvanalyst.catalog.names import normalize_name
from csvanalyst.catalog.precheck import check_readable
from csvanalyst.catalog.profile import profile_table
from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo, TableSchema, TableSource
from csvanalyst.catalog.sniff import read_spec
from csvanalyst.catalog.sources import check_unique
from csvanalyst.config import get_settings
from csvanalyst.errors import UsageError

PROFILE_FULL_BYTES = 256 * 1024 * 1024
PROFILE_SAMPLE_ROWS = 200_000


def file_dataset(paths: list[Path]) -> DatasetInfo:
    """A dataset of the given CSV files, one table per file named after its stem."""
    if not paths:
        raise UsageError("No file given.", hint="Pass --file PATH (repeatable).")
    given = [Path(p).expanduser() for p in paths]
    for path in given:
        check_readable(path)
    names = [normalize_name(p.stem) for p in given]
    check_unique(names, given)
    tables, parts = [], []
    for name, path in zip(names, given, strict=True):
        real = path.resolve()
        fingerprint = file_fingerprint(real)
        parts.append((name, fingerprint))
        tables.append(_table(name, real, get_settings().cache_dir / "files" / fingerprint))
    return DatasetInfo(
        name="+".join(names),
        description=f"{len(tables)} file{'s' if len(tables) != 1 else ''} queried in place",
        origin="file",
        fingerprint=combine(parts),
        tables=tables,
    )


def _table(name: str, real: Path, cache: Path) -> TableSchema:
    """The file's schema, sniffed once per fingerprint: a repeat query on an unchanged file skips it."""
    remembered = cache / "profiled.json"
    try:
        table = TableSchema.model_validate_json(remembered.read_text())
        if Path(table.source.path).exists():
            return table.model_copy(update={"name": name})
    except (OSError, ValueError):
        pass  # not sniffed yet, or written by another version: sniff again
    spec = read_spec(real, cache)
    rows, columns = _profile(spec.path, spec.options, spec.columns)
    table = TableSchema(
        name=name,
        columns=columns,
        row_count=rows,
        source=TableSource(path=str(spec.path.resolve()), format="csv", csv_options=spec.options),
        original_file=str(real),
        notes=spec.notes,
    )
    _remember(remembered, table)
    return table


def _profile(path: Path, options: dict[str, object], columns: list[ColumnInfo]) -> tuple[int | None, list[ColumnInfo]]:
    """Stats for the model; a file too big to scan on every new fingerprint is profiled on its head."""
    source = read_csv_sql(path, options)
    if path.stat().st_size <= PROFILE_FULL_BYTES:
        return profile_table(source, columns)
    _, profiled = profile_table(f"(SELECT * FROM {source} LIMIT {PROFILE_SAMPLE_ROWS})", columns)
    return None, profiled


def _remember(path: Path, table: TableSchema) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(table.model_dump_json())
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs a sniff next time
