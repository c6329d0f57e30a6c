"""Every kind of bad or unusual CSV either reads correctly or fails with a precise InputError."""

from __future__ import annotations

import gzip
import os
import zipfile
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.csvsql import read_csv_sql
from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.registry import add_dataset
from csvanalyst.errors import InputError, UsageError


def _rows(path: Path, table: int = 0, sql: str = "SELECT * FROM {t}") -> list[tuple]:
    """Read a registered file back through its Parquet cache."""
    info = add_dataset(path)
    source = info.tables[table].source
    assert source.format == "parquet"
    return duckdb.connect().execute(sql.format(t=f"read_parquet('{source.path}')")).fetchall()


def _error(path: Path) -> InputError:
    with pytest.raises(InputError) as caught:
        add_dataset(path)
    assert caught.value.hint
    return caught.value


def test_utf8_bom(tmp_path: Path) -> None:
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfcity,n\nParis,1\n")
    info = add_dataset(tmp_path / "bom.csv")
    assert [c.name for c in info.tables[0].columns] == ["city", "n"]


def test_latin1_is_read_correctly(tmp_path: Path) -> None:
    (tmp_path / "l1.csv").write_bytes("city,n\nZürich,1\nSão Paulo,2\n".encode("latin-1"))
    assert _rows(tmp_path / "l1.csv") == [("Zürich", 1), ("São Paulo", 2)]


@pytest.mark.parametrize("codec,bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff")])
def test_utf16_with_bom(tmp_path: Path, codec: str, bom: bytes) -> None:
    path = tmp_path / "u16.csv"
    path.write_bytes(bom + "city,n\nZürich,1\nKöln,2\n".encode(codec))
    assert _rows(path) == [("Zürich", 1), ("Köln", 2)]


def test_semicolons_with_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("item;price;qty\napple;1.234,56;3\npear;3,5;2\nplum;0,25;1\n")
    assert _rows(path, sql="SELECT sum(price), sum(qty) FROM {t}") == [(pytest.approx(1238.31), 6)]
    file_info = file_dataset([path])
    opts = file_info.tables[0].source.csv_options
    total = duckdb.sql(f"SELECT sum(price) FROM {read_csv_sql(path, opts)}").fetchall()
    assert total == [(pytest.approx(1238.31),)]


def test_tab_separated(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("a\tb\n1\tx y\n2\tz\n")
    assert _rows(path) == [(1, "x y"), (2, "z")]


def test_duplicate_and_blank_column_names(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("a,a,\n1,2,3\n")
    table = add_dataset(path).tables[0]
    assert [c.name for c in table.columns] == ["a", "a_2", "column_3"]
    assert any("renamed" in n for n in table.notes) and any("no name" in n for n in table.notes)


def test_missing_file(tmp_path: Path) -> None:
    assert "not found" in _error(tmp_path / "nope.csv").message


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.csv"
    path.write_text("a\n1\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions do not stop reading")
        assert "Cannot read" in _error(path).message
    finally:
        path.chmod(0o600)


def test_directory_given_as_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        file_dataset([tmp_path])


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "empty (0 bytes)" in _error(tmp_path / "empty.csv").message


@pytest.mark.parametrize("name", ["data.csv.gz", "data.csv"])
def test_gzip_input_is_read_decompressed(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(gzip.compress(b"a,b\n1,2\n3,4\n"))
    assert _rows(tmp_path / name, sql="SELECT * FROM {t} ORDER BY a") == [(1, 2), (3, 4)]
    table = file_dataset([tmp_path / name]).tables[0]
    assert table.name == "data" and table.rows is not None and table.rows.loaded == 2


def test_zstd_input_is_read_decompressed(tmp_path: Path) -> None:
    import zstandard

    path = tmp_path / "z.csv.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(b"a,b\n1,2\n"))
    assert file_dataset([path]).tables[0].rows.loaded == 1  # type: ignore[union-attr]


def test_truncated_gzip_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * 1000)[:40])
    assert "could not be decompressed" in _error(path).message


def test_a_pipe_is_refused_by_datasets_add_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    assert "not a regular file" in _error(fifo).message


def test_standard_input_and_pipes_are_spooled_for_file_queries(tmp_path: Path) -> None:
    fifo = tmp_path / "feed.csv"
    os.mkfifo(fifo)
    writer = os.fork()
    if writer == 0:  # the other end of the pipe, as a shell would be
        with fifo.open("wb") as handle:
            handle.write(b"a,b\n1,2\n3,4\n")
        os._exit(0)
    table = file_dataset([fifo]).tables[0]
    os.waitpid(writer, 0)
    assert table.name == "feed" and table.rows is not None and table.rows.loaded == 2


def test_header_field_over_128_kib_is_read(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    path.write_text("a," + "h" * 140_000 + "\n1,2\n")
    table = file_dataset([path]).tables[0]
    assert table.columns[1].name == "h" * 140_000 and table.rows is not None and table.rows.loaded == 1


@pytest.mark.parametrize(
    "name,content,kind",
    [
        ("img.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "PNG image"),
        ("old.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        ("bin.csv", b"a,b\n1,\x002\n", "NUL byte"),
        ("j.csv", b'{"a": 1, "b": 2}\n', "JSON"),
        ("j2.csv", b'[{"a": 1}]', "JSON"),
    ],
)
def test_non_csv_content_is_named(tmp_path: Path, name: str, content: bytes, kind: str) -> None:
    (tmp_path / name).write_bytes(content)
    error = _error(tmp_path / name)
    assert kind in error.message and "export it as csv" in error.hint.lower()


def test_xlsx_is_named(tmp_path: Path) -> None:
    path = tmp_path / "book.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert "Excel workbook (.xlsx)" in _error(path).message


def test_mixed_encodings_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"city,n\n" + "Zürich,1\n".encode() * 5 + "Köln,2\n".encode("latin-1"))
    error = _error(path)
    assert "line 7" in error.message and "UTF-8" in error.message


def test_header_only_works_with_zero_rows(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("a,b,c\n")
    table = add_dataset(path).tables[0]
    assert table.row_count == 0 and [c.name for c in table.columns] == ["a", "b", "c"]
    assert any("no data rows" in n for n in table.notes)


def test_huge_field_is_refused_quickly_with_line_and_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with path.open("w") as handle:
        handle.write('a,b\n1,x\n2,"')
        handle.write("y" * (100 * 1024 * 1024))
        handle.write('"\n3,z\n')
    error = _error(path)
    assert "Line 3" in error.message and "2,000,000 bytes" in error.message


def test_short_rows_are_set_aside_not_padded(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    lines = ["a,b,c"] + [f"{i},{i},x" for i in range(40)] + ["40,41", "42"] + ["43,44,y"]
    path.write_text("\n".join(lines) + "\n")
    table = add_dataset(path).tables[0]
    assert table.row_count == 41 and table.rows is not None
    assert (table.rows.loaded, table.rows.set_aside) == (41, 2)
    assert [(r.line, r.text) for r in table.rows.first] == [(42, "40,41"), (43, "42")]
    assert "fewer fields" in table.rows.first[0].reason
    assert duckdb.sql(f"SELECT count(*) FROM '{table.source.path}' WHERE a >= 40").fetchall() == [(1,)]


def test_rows_with_extra_fields_are_set_aside_with_line(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    lines = ["a,b,c"] + [f"{i},{i},x" for i in range(3000)] + ["1,2,3,4"]
    path.write_text("\n".join(lines) + "\n")
    table = add_dataset(path).tables[0]
    assert table.rows is not None and (table.rows.loaded, table.rows.set_aside) == (3000, 1)
    assert table.rows.first[0].line == 3002 and "more fields" in table.rows.first[0].reason


def test_strict_mode_refuses_a_file_with_set_aside_rows(tmp_path: Path) -> None:
    path = tmp_path / "extra.csv"
    path.write_text("a,b,c\n1,2,3\n1,2,3,4\n")
    with pytest.raises(InputError, match="line 3, more fields"):
        add_dataset(path, strict=True)


def test_unterminated_quote_sets_its_line_aside_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text('a,b\n1,ok\n2,"broken\n3,fine\n4,"quoted, fine"\n')
    table = add_dataset(path).tables[0]
    assert table.rows is not None and table.rows.set_aside == 1
    assert (table.rows.first[0].line, table.rows.first[0].reason) == (3, "unmatched quote")
    rows = duckdb.sql(f"SELECT * FROM '{table.source.path}' ORDER BY a").fetchall()
    assert rows == [(1, "ok"), (3, "fine"), (4, "quoted, fine")]


def test_ragged_file_in_place_gives_its_rows_and_a_count(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    table = file_dataset([path]).tables[0]
    assert [c.name for c in table.columns] == ["a", "b", "c"]
    assert table.rows is not None and (table.rows.loaded, table.rows.set_aside) == (1, 2)


def test_bare_carriage_return_records_load(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"a,b,c\r1,2,3\r4,5,6\r")
    table = file_dataset([path]).tables[0]
    assert [c.name for c in table.columns] == ["a", "b", "c"]
    assert table.rows is not None and (table.rows.loaded, table.rows.set_aside) == (2, 0)


def test_quoted_newline_in_place_is_read(tmp_path: Path) -> None:
    path = tmp_path / "nl.csv"
    path.write_text('a,b\n1,"two\nlines"\n2,x\n')
    table = file_dataset([path]).tables[0]
    assert table.rows is not None and (table.rows.loaded, table.rows.set_aside) == (2, 0)


def test_symlink_out_of_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "ok.csv").write_text("a\n1\n")
    (folder / "link.csv").symlink_to(outside)
    error = _error(folder)
    assert "outside the folder" in error.message


def test_symlinked_single_file_registers_the_real_path(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_text("a\n1\n")
    (tmp_path / "alias.csv").symlink_to(real)
    info = add_dataset(tmp_path / "alias.csv")
    assert info.name == "alias" and info.tables[0].original_file == str(real.resolve())


def test_too_many_columns_is_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(100_000))
    path.write_text(header + "\n" + ",".join("1" for _ in range(100_000)) + "\n")
    error = _error(path)
    assert "100,000 columns" in error.message and "10,000" in error.message


def test_folder_without_csvs(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("hi")
    assert "No CSV files" in _error(tmp_path).message


def test_same_stem_twice_in_file_mode(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    for folder in (tmp_path, tmp_path / "x"):
        (folder / "Sales.csv").write_text("a\n1\n")
    with pytest.raises(UsageError, match="both become table 'sales'"):
        file_dataset([tmp_path / "Sales.csv", tmp_path / "x" / "Sales.csv"])


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    path = tmp_path / "keep.csv"
    path.write_bytes(b"\xef\xbb\xbfa;b\n1;2,5\n")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    add_dataset(path)
    file_dataset([path])
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_duckdb_possible_fixes_do_not_decide_the_message(tmp_path: Path) -> None:
    from csvanalyst.catalog.duckdb_errors import csv_error

    small = tmp_path / "small.csv"
    small.write_text("a\x01b\n" + '"' * 3 + "x,y\n" * 200)
    with pytest.raises(duckdb.Error) as caught:
        sniff = f"SELECT * FROM sniff_csv('{small}', delim=',', ignore_errors=true, quote='x', escape='y')"
        duckdb.sql(sniff).fetchall()
    assert "maximum line size" in str(caught.value)  # DuckDB lists it among the possible fixes
    error = csv_error(caught.value, small)
    assert "longer than" not in error.message and "could not be read as a table" in error.message


def test_datasets_show_and_uploads_report_set_aside_rows(tmp_path: Path) -> None:
    from csvanalyst.catalog.describe import describe_dataset
    from csvanalyst.server.uploads import check_suffix, safe_stem

    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n")
    table = describe_dataset(add_dataset(path))["tables"][0]
    assert table["rows"] == 1 and table["set_aside"] == 1
    assert table["first_set_aside"][0]["line"] == 3
    check_suffix("orders.csv.gz")  # compressed uploads are accepted and named without their endings
    assert safe_stem("orders.csv.zst") == "orders"
    with pytest.raises(InputError):
        check_suffix("orders.gz")


def test_parquet_is_read_as_it_is_by_file_and_datasets_add(tmp_path: Path) -> None:
    path = tmp_path / "scores.parquet"
    duckdb.sql(f"COPY (SELECT range AS id, range * 1.5 AS score FROM range(7)) TO '{path}' (FORMAT parquet)")
    table = file_dataset([path]).tables[0]
    assert (table.name, table.source.format, table.row_count) == ("scores", "parquet", 7)
    assert [(c.name, c.type) for c in table.columns] == [("id", "BIGINT"), ("score", "DECIMAL(21,1)")]
    assert _rows(path, sql="SELECT count(*), max(id) FROM {t}") == [(7, 6)]


def test_a_broken_parquet_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 40)
    assert "could not be read" in _error(path).message
