"""`--file PATH`: query CSV files in place, without registering them.

Each file is sniffed and read once per fingerprint (the result is remembered in the cache): a clean
file is then queried in place by the runner with the explicit options found here; a file with rows
set aside is queried from a Parquet copy of exactly the rows that were read, so the count reported
and the table queried always agree.

Each table is profiled like a registered dataset (nulls, distinct counts, ranges, category values:
what a model is told about the data), once per fingerprint; a table over PROFILE_FULL_BYTES is
profiled on its first PROFILE_SAMPLE_ROWS rows. A plain query (`sql`) needs no profile, so it asks
for none: the profile, a second full scan of the file, is made when a question first needs it.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from csvanalyst.catalog.csvsql import literal, read_csv_sql
from csvanalyst.catalog.fingerprint import combine, file_fingerprint
from csvanalyst.catalog.formats import TableInput, table_inputs
from csvanalyst.catalog.ingest import check_in_place
from csvanalyst.catalog.names import normalize_name
from csvanalyst.catalog.parquet_input import read_parquet_table
from csvanalyst.catalog.precheck import check_readable
from csvanalyst.catalog.profile import profile_table
from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions
from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo, TableSchema, TableSource
from csvanalyst.catalog.sniff import read_spec
from csvanalyst.catalog.sources import check_unique
from csvanalyst.catalog.streams import is_stream, spool, table_stem
from csvanalyst.config import get_settings
from csvanalyst.errors import UsageError

PROFILE_FULL_BYTES = 256 * 1024 * 1024
PROFILE_SAMPLE_ROWS = 200_000


def file_dataset(paths: list[Path], reader: ReaderOptions = NO_OPTIONS, *, profiled: bool = True) -> DatasetInfo:
    """A dataset of the given CSV files, one table per file named after its stem, read with `reader`;
    with `profiled`, its columns carry their stats."""
    if not paths:
        raise UsageError("No file given.", hint="Pass --file PATH (repeatable).")
    spool_dir = get_settings().cache_dir / "files" / "streams"
    given = [Path(p).expanduser() for p in paths]
    names = [normalize_name(table_stem(p)) for p in given]
    given = [spool(p, spool_dir) if is_stream(p) else p for p in given]
    for path in given:
        check_readable(path)
    check_unique(names, given)
    tables, parts = [], []
    for name, path in zip(names, given, strict=True):
        real = path.resolve()
        fingerprint = file_fingerprint(real) + (f"-{reader.key()}" if reader.key() else "")
        parts.append((name, fingerprint))
        tables.extend(_tables(name, real, get_settings().cache_dir / "files" / fingerprint, reader, profiled))
    check_unique([t.name for t in tables], [Path(t.original_file or t.name) for t in tables])
    return DatasetInfo(
        name="+".join(names),
        description=f"{len(given)} file{'s' if len(given) != 1 else ''} queried in place",
        origin="file",
        fingerprint=combine(parts),
        tables=tables,
        reader=reader.given(),
    )


class _Remembered(BaseModel):
    """The tables of one file as profiled, each with the suffix its name gets (a workbook's sheet)."""

    parts: list[tuple[str, TableSchema]]


def _tables(name: str, real: Path, cache: Path, reader: ReaderOptions, profiled: bool) -> list[TableSchema]:
    """The file's tables, sniffed once per fingerprint: a repeat query on an unchanged file skips it."""
    known = _recall(cache / PROFILED)
    if known is not None:
        return _named(name, known)
    known = _recall(cache / READ)
    if known is None:
        known = [
            (part.suffix, _table(name + part.suffix, real, part, cache, reader)) for part in table_inputs(real, cache)
        ]
        _remember(cache / READ, _Remembered(parts=known))
    if profiled:
        known = [(suffix, _with_profile(table)) for suffix, table in known]
        _remember(cache / PROFILED, _Remembered(parts=known))
    return _named(name, known)


def _named(name: str, known: list[tuple[str, TableSchema]]) -> list[TableSchema]:
    return [table.model_copy(update={"name": name + suffix}) for suffix, table in known]


PROFILED, READ = "profiled.json", "read.json"


def _recall(remembered: Path) -> list[tuple[str, TableSchema]] | None:
    """The tables remembered in `remembered`, or None if there are none (or their copies are gone)."""
    try:
        known = _Remembered.model_validate_json(remembered.read_text()).parts
    except (OSError, ValueError):
        return None  # not read yet, or written by another version: read again
    return known if all(Path(table.source.path).exists() for _, table in known) else None


def _table(name: str, real: Path, part: TableInput, cache: Path, reader: ReaderOptions) -> TableSchema:
    spec = None if part.kind == "parquet" else read_spec(part.path, cache, reader)
    dest = cache / f"table{part.suffix}.parquet"
    read = check_in_place(spec, dest, real) if spec else read_parquet_table(part.path)
    options = read.options if read.format == "csv" else {}
    source = TableSource(path=str(read.path.resolve()), format=read.format, csv_options=options)
    return TableSchema(
        name=name,
        columns=read.columns,
        row_count=read.row_count,
        source=source,
        original_file=str(real),
        notes=list(dict.fromkeys([*(spec.notes if spec else []), *read.notes])),
        rows=read.rows,
    )


def _with_profile(table: TableSchema) -> TableSchema:
    return table.model_copy(update={"columns": _profile(table.source, table.columns)})


def _profile(source: TableSource, columns: list[ColumnInfo]) -> list[ColumnInfo]:
    """Stats for the model; a table too big to scan again on every new fingerprint is profiled on its head."""
    path = Path(source.path)
    relation = (
        read_csv_sql(path, source.csv_options or {})
        if source.format == "csv"
        else f"read_parquet({literal(str(path))})"
    )
    if path.stat().st_size > PROFILE_FULL_BYTES:
        relation = f"(SELECT * FROM {relation} LIMIT {PROFILE_SAMPLE_ROWS})"
    return profile_table(relation, columns)[1]


def _remember(path: Path, table: BaseModel) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(table.model_dump_json())
        os.replace(tmp, path)
    except OSError:
        pass  # an unwritable cache only costs a sniff next time
