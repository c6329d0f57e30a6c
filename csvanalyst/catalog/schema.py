"""The shapes every other layer sees of a dataset: tables, columns, where their data lives.

The planner, the policy and the executors only ever see these models, never a CSV file directly.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

TypeFamily = Literal["integer", "float", "decimal", "boolean", "date", "timestamp", "time", "text", "other"]


def type_family(duckdb_type: str) -> TypeFamily:
    """Coarse family of a DuckDB type name, used to check aggregates and operators."""
    t = duckdb_type.upper()
    if t in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "HUGEINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "UHUGEINT",
    }:
        return "integer"
    if t in {"FLOAT", "DOUBLE", "REAL"}:
        return "float"
    if t.startswith("DECIMAL"):
        return "decimal"
    if t == "BOOLEAN":
        return "boolean"
    if t == "DATE":
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t.startswith("TIME"):
        return "time"
    if t in {"VARCHAR", "TEXT", "STRING"} or t.startswith("VARCHAR"):
        return "text"
    return "other"


class ColumnStats(BaseModel):
    """Profile of one column, computed once per fingerprint."""

    null_count: int = 0
    distinct_count: int | None = None
    min: Any = None
    max: Any = None
    samples: list[Any] = Field(default_factory=list)
    # Every distinct value, most frequent first, when a column has few of them (categories); else None.
    values: list[Any] | None = None


class ColumnInfo(BaseModel):
    name: str
    type: str  # DuckDB type name, e.g. "BIGINT", "VARCHAR", "DATE", "DECIMAL(10,2)"
    stats: ColumnStats | None = None

    @property
    def family(self) -> TypeFamily:
        return type_family(self.type)


class TableSource(BaseModel):
    """Where the runner reads a table from. `path` is absolute; csv options go to DuckDB's read_csv."""

    path: str
    format: Literal["parquet", "csv"]
    csv_options: dict[str, Any] = Field(default_factory=dict)


class SetAsideRow(BaseModel):
    """A row of the source file that is not in the table: where it is, what it says, why it is out."""

    line: int  # record number in the file, the header being line 1
    reason: str
    text: str  # the raw row, cut at a few KiB


class RowAccount(BaseModel):
    """Every row of a source file is either loaded or set aside; `first` holds the earliest set-aside rows."""

    loaded: int
    set_aside: int = 0
    first: list[SetAsideRow] = Field(default_factory=list)
    rejects_path: str | None = None  # Parquet file of every set-aside row
    footer: list[SetAsideRow] = Field(default_factory=list)  # lines after the table (notes, totals): not rows

    @property
    def total(self) -> int:
        return self.loaded + self.set_aside


class TableSchema(BaseModel):
    name: str  # SQL-safe table name: lowercase, non-alphanumerics -> "_"
    columns: list[ColumnInfo]
    row_count: int | None = None
    source: TableSource
    original_file: str | None = None  # the CSV the user gave, for display and fingerprinting
    notes: list[str] = Field(default_factory=list)  # e.g. "the header is line 3"
    rows: RowAccount | None = None  # loaded vs set-aside rows of the source file

    def column(self, name: str) -> ColumnInfo | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None


Origin = Literal["demo", "user", "file"]  # a built-in demo, a registered directory, a single file


class DatasetInfo(BaseModel):
    """A set of tables queried together; joins are only allowed within one dataset."""

    name: str
    description: str = ""
    origin: Origin = "user"
    fingerprint: str = ""
    tables: list[TableSchema]
    reader: dict[str, Any] = Field(default_factory=dict)  # the reader options it was registered with

    def table(self, name: str) -> TableSchema | None:
        for table in self.tables:
            if table.name == name:
                return table
        return None

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self.tables]

    @property
    def column_types(self) -> dict[str, dict[str, str]]:
        """Table → column → DuckDB type: what a check of SQL or a plan against this dataset depends on."""
        return {t.name: {c.name: c.type for c in t.columns} for t in self.tables}
