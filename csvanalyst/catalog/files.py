"""`--file PATH`: query CSV files in place, without registering or ingesting them.

This must be fast on a 10 GB file, so only the head of each file is read (pre-checks and DuckDB's
sniffer); the runner reads the CSV itself with the explicit options found here.
"""

from __future__ import annotations

from pathlib import Path

from csvanalyst.catalog.fingerprint import combine, file_fingerprint
from csvanalyst.catalog.names import normalize_name
from csvanalyst.catalog.precheck import check_readable
from csvanalyst.catalog.schema import DatasetInfo, TableSchema, TableSource
from csvanalyst.catalog.sniff import read_spec
from csvanalyst.catalog.sources import check_unique
from csvanalyst.config import get_settings
from csvanalyst.errors import UsageError


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
        spec = read_spec(real, get_settings().cache_dir / "files" / fingerprint)
        tables.append(
            TableSchema(
                name=name,
                columns=spec.columns,
                source=TableSource(path=str(spec.path.resolve()), format="csv", csv_options=spec.options),
                original_file=str(real),
                notes=spec.notes,
            )
        )
    return DatasetInfo(
        name="+".join(names),
        description=f"{len(tables)} file{'s' if len(tables) != 1 else ''} queried in place",
        origin="file",
        fingerprint=combine(parts),
        tables=tables,
    )
