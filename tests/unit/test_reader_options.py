"""Reader options: they change how a file is read, are stored with a dataset, key the cache, and bad
values are usage errors (exit 2) from the real CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.reader import ReaderOptions, from_mapping
from csvanalyst.catalog.registry import add_dataset, get_dataset
from csvanalyst.catalog.schema import TableSchema
from csvanalyst.errors import UsageError


def _rows(table: TableSchema) -> list[tuple]:
    source = table.source
    with duckdb.connect() as con:
        if source.format == "parquet":
            return con.execute(f"SELECT * FROM read_parquet('{source.path}')").fetchall()
        from csvanalyst.catalog.csvsql import read_csv_sql

        return con.execute(f"SELECT * FROM {read_csv_sql(Path(source.path), source.csv_options)}").fetchall()


def test_no_header_option_keeps_the_first_line_as_data(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("city,code\nOslo,NO\nRome,IT\n")  # all text: a header cannot be told from data
    detected = file_dataset([path]).tables[0]
    forced = file_dataset([path], ReaderOptions(header=False)).tables[0]
    assert [c.name for c in forced.columns] == ["column_1", "column_2"]
    assert forced.row_count == 3 and ("city", "code") in _rows(forced)
    assert detected.source.path != forced.source.path or detected.row_count != forced.row_count


def test_header_option_names_columns_from_a_numeric_first_line(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text("1,2\n3,4\n5,6\n")
    detected = file_dataset([path]).tables[0]
    assert any("give --header" in note for note in detected.notes)
    forced = file_dataset([path], ReaderOptions(header=True)).tables[0]
    assert [c.name for c in forced.columns] == ["1", "2"] and forced.row_count == 2


def test_delimiter_quote_and_skip_rows(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("exported by x\nname;note\n'a;b';1\n'c';2\n")
    table = file_dataset([path], ReaderOptions(delimiter=";", quote="'", skip_rows=1)).tables[0]
    assert [c.name for c in table.columns] == ["name", "note"]
    assert sorted(_rows(table)) == [("a;b", 1), ("c", 2)]
    assert table.rows is not None and table.rows.set_aside == 0


def test_named_and_multi_character_delimiters(tmp_path: Path) -> None:
    tab = tmp_path / "tab.txt"
    tab.write_text("a\tb\n1\t2\n")
    assert file_dataset([tab], ReaderOptions(delimiter="tab")).tables[0].row_count == 1
    multi = tmp_path / "multi.csv"
    multi.write_text("a||b\n1||2\n3||4\n")
    table = file_dataset([multi], ReaderOptions(delimiter="||")).tables[0]
    assert [c.name for c in table.columns] == ["a", "b"] and sorted(_rows(table)) == [(1, 2), (3, 4)]


def test_decimal_and_encoding_options(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes("ville;prix\nSète;3,5\nNîmes;4,25\n".encode("cp1252"))
    table = file_dataset([path], ReaderOptions(encoding="cp1252", decimal=",")).tables[0]
    assert sorted(_rows(table)) == [("Nîmes", 4.25), ("Sète", 3.5)]
    as_text = file_dataset([path], ReaderOptions(encoding="cp1252", decimal=".")).tables[0]
    assert as_text.column("prix").type == "VARCHAR"  # type: ignore[union-attr]


def test_options_are_part_of_the_cache_key(tmp_path: Path) -> None:
    path = tmp_path / "k.csv"
    path.write_text("a;b\n1;2,5\n")
    plain = file_dataset([path])
    dotted = file_dataset([path], ReaderOptions(decimal="."))
    assert plain.fingerprint != dotted.fingerprint
    assert plain.tables[0].column("b").type != dotted.tables[0].column("b").type  # type: ignore[union-attr]


def test_registered_dataset_keeps_its_options_across_a_rebuild(tmp_path: Path) -> None:
    path = tmp_path / "reg.csv"
    path.write_text("x|y\n1|2\n")
    info = add_dataset(path, name="reg", reader=ReaderOptions(delimiter="|", header=True))
    assert info.reader == {"delimiter": "|", "header": True}
    path.write_text("x|y\n1|2\n3|4\n")  # a change forces a rebuild, which must read with the same options
    rebuilt = get_dataset("reg")
    assert rebuilt.fingerprint != info.fingerprint and rebuilt.reader == info.reader
    assert [c.name for c in rebuilt.tables[0].columns] == ["x", "y"] and rebuilt.tables[0].row_count == 2


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"delimiter": "\n"}, "--delimiter"),
        ({"delimiter": "abcde"}, "--delimiter"),
        ({"quote": "ab"}, "--quote"),
        ({"skip_rows": -1}, "--skip-rows"),
        ({"encoding": "klingon"}, "--encoding"),
        ({"decimal": ";"}, "--decimal"),
    ],
)
def test_bad_values_are_usage_errors(options: dict, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        ReaderOptions(**options)


def test_unknown_stored_option_is_refused() -> None:
    with pytest.raises(UsageError, match="Unknown reader option"):
        from_mapping({"delim": ","}, "the registry entry")


def test_cli_bad_option_exits_2_and_good_one_reads(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("1|2\n3|4\n")
    cli = [str(Path(sys.executable).with_name("csvanalyst"))]
    bad = subprocess.run([*cli, "sql", "SELECT * FROM p", "--file", str(path), "--decimal", "x"], capture_output=True)
    assert bad.returncode == 2 and b"--decimal" in bad.stderr and b"Traceback" not in bad.stderr
    good = subprocess.run(
        [*cli, "sql", "SELECT * FROM p", "--file", str(path), "--delimiter", "|", "--no-header", "--format", "csv"],
        capture_output=True,
        text=True,
    )
    assert good.returncode == 0, good.stderr
    assert good.stdout.splitlines() == ["column_1,column_2", "1,2", "3,4"]


def test_encoding_is_decided_on_the_whole_file_not_its_head(tmp_path: Path) -> None:
    path = tmp_path / "deep.csv"
    body = "".join(f"{i},plain ascii text\n" for i in range(600_000))  # ~13 MB, past the 4 MiB head
    path.write_bytes(b"id,name\n" + body.encode() + "600000,Jos\xe9\n".encode("latin-1"))
    table = file_dataset([path]).tables[0]
    assert table.rows is not None and table.rows.set_aside == 0 and table.row_count == 600_001
    assert any("not UTF-8" in note for note in table.notes)
    with duckdb.connect() as con:
        from csvanalyst.catalog.csvsql import read_csv_sql

        relation = read_csv_sql(Path(table.source.path), table.source.csv_options)
        assert con.execute(f"SELECT name FROM {relation} WHERE id = 600000").fetchone() == ("José",)


def test_utf8_text_then_a_bad_byte_deep_in_the_file_names_the_offset(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    body = "".join(f"{i},café\n" for i in range(500_000))
    path.write_bytes(b"id,name\n" + body.encode() + b"1,\xff\n")
    from csvanalyst.errors import InputError

    with pytest.raises(InputError, match="byte offset"):
        file_dataset([path])
