"""Every file of the messy corpus: loaded + set aside = its rows, no cell in another column, no crash."""

from __future__ import annotations

import duckdb
import pytest

from csvanalyst.catalog.csvsql import literal, read_csv_sql
from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.schema import TableSchema
from tests.corpus_check import misplaced
from tests.messy_corpus import Case, build_corpus, iso_dates, numeric_column


def loaded_rows(table: TableSchema) -> list[tuple]:
    """The table as the runner would read it (Parquet copy, or the CSV with its explicit options)."""
    source = table.source
    if source.format == "parquet":
        query = f"SELECT * FROM read_parquet({literal(source.path)})"
    else:
        query = f"SELECT * FROM {read_csv_sql(source.path, source.csv_options)}"
    with duckdb.connect() as con:
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    return build_corpus(tmp_path_factory.mktemp("corpus"))


def test_corpus_has_at_least_200_files_of_every_class(corpus: list[Case]) -> None:
    assert len(corpus) >= 200
    assert len({c.defect for c in corpus}) >= 16


def _problems(case: Case) -> list[str]:
    table = file_dataset([case.path]).tables[0]
    rows = loaded_rows(table)
    account = table.rows
    assert account is not None
    name = case.path.name
    problems = []
    if account.loaded != len(rows):
        problems.append(f"{name}: account says {account.loaded} loaded, the table has {len(rows)}")
    if account.loaded + account.set_aside != len(case.rows):
        problems.append(f"{name}: {account.loaded} loaded + {account.set_aside} set aside != {len(case.rows)}")
    wrong = misplaced(case, rows)
    if wrong:
        problems.append(f"{name}: {len(wrong)} rows differ from the clean table, e.g. {wrong[0]}")
    if [c.name for c in table.columns] != case.header:
        problems.append(f"{name}: header {[c.name for c in table.columns]}")
    problems.extend(_layout_problems(case, table))
    if case.defect == "extra_field" or (case.defect == "missing_field" and not case.trailing_empty):
        first = account.first[0] if account.first else None
        if account.set_aside != 1 or first is None:
            problems.append(f"{name}: the polluted row was not set aside")
        elif case.path.read_text().split("\n")[first.line - 1] != first.text:
            problems.append(f"{name}: set-aside line {first.line} is not the polluted line")
    return problems


def _layout_problems(case: Case, table: TableSchema) -> list[str]:
    """Footers are reported, money and percentages typed as numbers, day-first dates as dates."""
    name, types = case.path.name, [c.type for c in table.columns]
    if case.defect.startswith("footer") and not (table.rows and table.rows.footer):
        return [f"{name}: the lines after the table were not reported"]
    numeric = {"BIGINT", "DOUBLE", "DECIMAL", "INTEGER", "HUGEINT"}
    if case.defect in ("money", "percent"):
        wrong = [
            c.name for i, c in enumerate(table.columns) if numeric_column(case.rows, i) and types[i] not in numeric
        ]
        return [f"{name}: columns {wrong} are not read as numbers"] if wrong else []
    if case.defect == "day_first":
        wrong = [c.name for i, c in enumerate(table.columns) if iso_dates(case.rows, i) and c.type != "DATE"]
        return [f"{name}: columns {wrong} are not read as dates"] if wrong else []
    return []


@pytest.mark.timeout(900)
def test_every_file_accounts_for_every_row_and_shifts_no_cell(corpus: list[Case]) -> None:
    """Loaded + set aside = the file's rows, every loaded row equals a clean row, and a polluted row is
    set aside under its own line; also an extra separator before an empty last field, which DuckDB alone
    would take for a trailing delimiter and shift a cell."""
    failures = [problem for case in corpus for problem in _problems(case)]
    trailing = [c for c in corpus if c.defect == "extra_field" and c.trailing_empty]
    assert trailing, "the corpus must hold extra-separator rows before an empty last field"
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
