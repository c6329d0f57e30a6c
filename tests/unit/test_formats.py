"""JSON, NDJSON and Excel workbooks (built with openpyxl here) through --file, datasets add and the
server's upload, with the same cache and profile as CSV; unsupported formats get a clear error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import openpyxl
import pytest

from csvanalyst.catalog.csvsql import read_csv_sql
from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.registry import add_dataset, get_dataset
from csvanalyst.catalog.schema import TableSchema
from csvanalyst.errors import InputError


def _rows(table: TableSchema) -> list[tuple]:
    source = table.source
    relation = (
        f"read_parquet('{source.path}')"
        if source.format == "parquet"
        else read_csv_sql(Path(source.path), source.csv_options)
    )
    with duckdb.connect() as con:
        return sorted(con.execute(f"SELECT * FROM {relation}").fetchall(), key=str)


def _workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    sales = book.active
    sales.title = "Sales 2024"
    sales.append(["id", "day", "amount", "city"])
    sales.append([1, dt.date(2024, 1, 2), 3.5, "Oslo"])
    sales.append([2, dt.date(2024, 1, 3), 4, "Rome"])
    staff = book.create_sheet("Staff")
    staff.append(["name", "age"])
    staff.append(["Ana", 31])
    book.create_sheet("Empty")
    book.save(path)
    return path


def test_xlsx_gives_one_typed_table_per_sheet_with_data(tmp_path: Path) -> None:
    info = file_dataset([_workbook(tmp_path / "Book.xlsx")])
    assert sorted(t.name for t in info.tables) == ["book_sales_2024", "book_staff"]
    sales = next(t for t in info.tables if t.name == "book_sales_2024")
    assert {c.name: c.type for c in sales.columns} == {
        "id": "BIGINT",
        "day": "DATE",
        "amount": "DOUBLE",
        "city": "VARCHAR",
    }
    assert _rows(sales) == [(1, dt.date(2024, 1, 2), 3.5, "Oslo"), (2, dt.date(2024, 1, 3), 4.0, "Rome")]
    assert sales.columns[3].stats is not None and sales.columns[3].stats.distinct_count == 2  # profiled
    again = file_dataset([tmp_path / "Book.xlsx"])
    assert [t.source.path for t in again.tables] == [t.source.path for t in info.tables]  # cached


def test_single_sheet_workbook_is_named_after_the_file(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.append(["a", "b"])
    book.active.append([1, "x"])
    book.save(tmp_path / "one.xlsx")
    assert [t.name for t in file_dataset([tmp_path / "one.xlsx"]).tables] == ["one"]


def test_json_array_and_ndjson(tmp_path: Path) -> None:
    array = tmp_path / "people.json"
    array.write_text(json.dumps([{"name": "Ana", "age": 31}, {"name": "Bo", "age": None}]))
    lines = tmp_path / "events.ndjson"
    lines.write_text('{"kind": "click", "n": 2}\n{"kind": "view", "n": 5}\n')
    info = file_dataset([array, lines])
    people, events = info.table("people"), info.table("events")
    assert people is not None and _rows(people) == [("Ana", 31), ("Bo", None)]
    assert events is not None and events.row_count == 2 and _rows(events) == [("click", 2), ("view", 5)]
    assert events.column("n").stats is not None  # type: ignore[union-attr]


def test_datasets_add_reads_workbooks_and_json_and_rebuilds_them(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    _workbook(folder / "book.xlsx")
    (folder / "log.jsonl").write_text('{"a": 1}\n{"a": 2}\n')
    info = add_dataset(folder, name="mixed")
    assert sorted(t.name for t in info.tables) == ["book_sales_2024", "book_staff", "log"]
    assert all(t.source.format == "parquet" for t in info.tables)
    assert get_dataset("mixed").fingerprint == info.fingerprint


def test_broken_json_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.ndjson"
    path.write_text('{"a": 1}\n{"a": 2,\n')
    with pytest.raises(InputError, match="could not be read as JSON") as caught:
        file_dataset([path])
    assert "NDJSON" in (caught.value.hint or "")


@pytest.mark.parametrize(("name", "words"), [("old.xls", "Excel 97-2003"), ("sheet.ods", "OpenDocument")])
def test_unsupported_formats_are_named(tmp_path: Path, name: str, words: str) -> None:
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 not really")
    with pytest.raises(InputError, match=words) as caught:
        file_dataset([tmp_path / name])
    assert "xlsx" in (caught.value.hint or "")


def test_a_damaged_workbook_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(InputError, match="could not be read as an Excel workbook"):
        file_dataset([path])


def test_server_upload_keeps_the_workbook_format(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from csvanalyst.server.app import create_app

    path = _workbook(tmp_path / "upload.xlsx")
    with TestClient(create_app(), base_url="http://127.0.0.1") as client, path.open("rb") as handle:
        response = client.post("/datasets", files={"file": ("upload.xlsx", handle)}, data={"name": "up"})
    assert response.status_code == 201, response.text
    assert sorted(t["name"] for t in response.json()["tables"]) == ["upload_sales_2024", "upload_staff"]
