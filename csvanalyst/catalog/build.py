"""Sources -> a cached, profiled DatasetInfo: validate every file, ingest, profile; all or nothing.

Everything for one fingerprint lives in `cache_dir/<dataset>/<fingerprint>/`; if any step fails that
directory is removed, so a failed add or refresh leaves no half-built cache behind.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from csvanalyst.catalog.csvsql import literal
from csvanalyst.catalog.diskfull import disk_full_error, is_disk_full
from csvanalyst.catalog.fingerprint import combine, file_fingerprint
from csvanalyst.catalog.formats import TableInput, table_inputs
from csvanalyst.catalog.ingest import ingest
from csvanalyst.catalog.parquet_input import read_parquet_table
from csvanalyst.catalog.profile import profile_table
from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions
from csvanalyst.catalog.schema import DatasetInfo, Origin, TableSchema, TableSource
from csvanalyst.catalog.sniff import CsvSpec, read_spec
from csvanalyst.catalog.sources import Source, check_unique
from csvanalyst.errors import InputError

Progress = Callable[[str, float], None]


def fingerprint_of(sources: list[Source], reader: ReaderOptions = NO_OPTIONS) -> str:
    """The dataset fingerprint of the files as they are now, read with `reader`."""
    try:
        parts = [(table, file_fingerprint(path)) for table, path in sources]
        return combine(parts + ([("~reader", reader.key())] if reader.key() else []))
    except OSError as exc:
        raise InputError(
            f"Cannot read a source file: {exc.filename}: {exc.strerror}.",
            hint="Check that the file still exists and is readable, or remove the dataset.",
        ) from exc


def build_dataset(
    name: str,
    origin: Origin,
    description: str,
    sources: list[Source],
    cache_root: Path,
    progress: Progress | None = None,
    reader: ReaderOptions = NO_OPTIONS,
) -> DatasetInfo:
    """Validate all `sources`, then ingest and profile them under `cache_root/name/<fingerprint>`."""
    fingerprint = fingerprint_of(sources, reader)
    target = cache_root / name / fingerprint
    scratch = target / ".utf8"
    shutil.rmtree(target, ignore_errors=True)
    try:
        inputs = [(table + part.suffix, path, part) for table, path in sources for part in table_inputs(path, scratch)]
        check_unique([name for name, _, _ in inputs], [path for _, path, _ in inputs])
        specs = [
            (name, path, part, None if part.kind == "parquet" else read_spec(part.path, scratch, reader))
            for name, path, part in inputs
        ]
        tables = [_table(name, path, part, spec, target, progress) for name, path, part, spec in specs]
    except BaseException as exc:
        shutil.rmtree(target, ignore_errors=True)
        if isinstance(exc, Exception) and is_disk_full(exc):
            raise disk_full_error(cache_root, [path for _, path in sources], f"the cache of {name!r}") from exc
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    return DatasetInfo(
        name=name,
        description=description,
        origin=origin,
        fingerprint=fingerprint,
        tables=tables,
        reader=reader.given(),
    )


def _table(
    table: str, original: Path, part: TableInput, spec: CsvSpec | None, target: Path, progress: Progress | None
) -> TableSchema:
    dest = target / f"{table}.parquet"
    result = ingest(spec, dest, original, progress) if spec else read_parquet_table(part.path, copy_to=dest)
    if progress:
        progress(f"Profiling {table}", 1.0)
    rows, columns = profile_table(f"read_parquet({literal(str(result.path))})", result.columns)
    notes = [*(spec.notes if spec else []), *result.notes]
    return TableSchema(
        rows=result.rows,
        name=table,
        columns=columns,
        row_count=rows,
        source=TableSource(path=str(result.path), format="parquet"),
        original_file=str(original),
        notes=list(dict.fromkeys(notes)),
    )


def prune_cache(cache_root: Path, name: str, keep: str | None) -> None:
    """Remove cache directories of `name` other than fingerprint `keep` (all of them if None)."""
    base = cache_root / name
    if not base.is_dir():
        return
    if keep is None:
        shutil.rmtree(base, ignore_errors=True)
        return
    for child in base.iterdir():
        if child.name != keep:
            shutil.rmtree(child, ignore_errors=True)
