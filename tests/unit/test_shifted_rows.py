"""An extra separator before an empty last field: DuckDB alone reads it as a trailing delimiter and
shifts a cell; the loader sets the row aside under its own line, whatever the line ends."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvanalyst.catalog import shifted
from csvanalyst.catalog.files import file_dataset


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_the_row_is_set_aside_with_its_line(tmp_path: Path, end: str) -> None:
    lines = ["id,name,note", "1,Ana,", "2,,Bo,", '3,"x,y",', "4,Cy,z"]
    path = tmp_path / "t.csv"
    path.write_bytes(end.join(lines).encode() + end.encode())
    table = file_dataset([path]).tables[0]
    assert table.rows is not None and table.rows.set_aside == 1 and table.row_count == 3
    assert (table.rows.first[0].line, table.rows.first[0].text) == (3, "2,,Bo,")


def test_found_across_chunk_boundaries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shifted, "CHUNK", 7)
    lines = ["a,b", *[f"{i}," for i in range(40)], "x,y,", "7,8"]
    path = tmp_path / "c.csv"
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    found = shifted.find_shifted(path, {"delim": ",", "quote": '"', "header": True, "skip": 0}, 2)
    assert [(s.row.line, s.row.text) for s in found] == [(42, "x,y,")]
    with path.open("rb") as handle:
        handle.seek(found[0].offset)
        assert handle.read(4) == b"x,y,"


def test_a_file_with_trailing_delimiters_everywhere_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "all.csv"
    path.write_text("a,b,\n1,2,\n3,4,\n")
    assert shifted.find_shifted(path, {"delim": ",", "quote": '"', "header": True, "skip": 0}, 2) == []


@pytest.mark.parametrize("chunk", [3, 5, 8, 64])
def test_line_numbers_match_a_plain_split_whatever_the_read_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """Mixed line ends, candidates far apart and close together: each one's line number is the one a
    plain split of the whole text gives, whichever reads split a \\r\\n."""
    monkeypatch.setattr(shifted, "CHUNK", chunk)
    ends = ["\n", "\r\n", "\r"]
    rows = [f"{i},{'x' * (i % 4)}" + ("," if i % 7 == 3 else "") for i in range(60)]
    text = "a,b" + "".join(ends[i % 3] + row for i, row in enumerate(rows)) + "\n"
    path = tmp_path / "mixed.csv"
    path.write_bytes(text.encode())
    expected = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if n > 1 and line.count(",") == 2]
    found = shifted.find_shifted(path, {"delim": ",", "quote": '"', "header": True, "skip": 0}, 2)
    assert [(s.row.line, s.row.text) for s in found] == expected
    assert len(expected) > 5


def test_a_second_read_without_the_rows_starts_from_the_sniffed_spec(tmp_path: Path) -> None:
    """The file is read while the search runs; when it finds rows, the read starts over without their
    lines (and forgets the first read's repairs, here a stray quote's line cut out): money still
    converted, each row set aside once, under its line in the original file, no note twice."""
    rows = [f"{i},${i}.50,n{i}" for i in range(1, 30)]
    rows[2], rows[9] = '3,$3.50,"n, 3"', '10,$10.50,"broken'
    lines = ["id,price,note", *rows, "30,$2.00,x,", "31,$3.25,y"]
    path = tmp_path / "money.csv"
    path.write_text("\n".join(lines) + "\n")
    table = file_dataset([path]).tables[0]
    assert table.rows is not None and (table.rows.set_aside, table.row_count) == (2, 29)
    assert [(r.line, r.text) for r in table.rows.first] == [(11, '10,$10.50,"broken'), (31, "30,$2.00,x,")]
    price = next(c for c in table.columns if c.name == "price")
    assert price.type in {"DOUBLE", "DECIMAL(18,2)"} or price.type.startswith("DECIMAL"), price.type
    assert len(table.notes) == len(set(table.notes))
