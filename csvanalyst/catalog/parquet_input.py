"""Parquet files given as tables: read as they are (their schema is already typed), never sniffed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from csvanalyst.catalog.csvsql import literal
from csvanalyst.catalog.ingest import Ingested
from csvanalyst.catalog.schema import ColumnInfo, RowAccount
from csvanalyst.errors import InputError

MAGIC = b"PAR1"


def is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


def read_parquet_table(path: Path, copy_to: Path | None = None) -> Ingested:
    """Columns and row count of a Parquet file; with `copy_to`, the table is a copy there (the cache)."""
    import duckdb

    source = path
    if copy_to is not None:
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        tmp = copy_to.with_name(f".{copy_to.name}.{os.getpid()}.tmp")
        shutil.copyfile(path, tmp)
        os.replace(tmp, copy_to)
        source = copy_to
    try:
        with duckdb.connect() as con:
            relation = f"read_parquet({literal(str(source))})"
            described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
            count = int(con.execute(f"SELECT count(*) FROM {relation}").fetchall()[0][0])
    except duckdb.Error as exc:
        raise InputError(
            f"{path} starts like a Parquet file but could not be read: {str(exc).splitlines()[0][:200]}",
            hint="Check that the file was written completely, or export it again.",
        ) from exc
    columns = [ColumnInfo(name=str(row[0]), type=str(row[1])) for row in described]
    return Ingested(source, "parquet", columns, {}, RowAccount(loaded=count))
