"""Layout and value detection: footers, two-line headers, money and percentages, date order, encodings.

Each check is by shape and value only; the files here are made up so that each rule is seen to hold
and seen to stay away from the look-alike it must not touch."""

from __future__ import annotations

from pathlib import Path

from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.precheck import SAMPLE_BYTES
from csvanalyst.catalog.rejects import rejects_of, set_aside_notes
from csvanalyst.catalog.schema import TableSchema
from tests.unit.test_messy_corpus import loaded_rows


def _table(path: Path, text: str | bytes) -> TableSchema:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return file_dataset([path]).tables[0]


def test_notes_after_a_blank_line_are_left_out_and_listed(tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    text = "region,amount\nEast,10\nWest,12\nNorth,7\n\nSource: the statistics office,\nNote: provisional,\n"
    table = _table(path, text)
    assert loaded_rows(table) == [("East", 10), ("West", 12), ("North", 7)]
    assert table.rows is not None and table.rows.set_aside == 0
    assert [(r.line, r.text) for r in table.rows.footer] == [
        (6, "Source: the statistics office,"),
        (7, "Note: provisional,"),
    ]
    listed = rejects_of(str(path))
    assert [r["line"] for r in listed] == [6, 7] and "after the table" in listed[0]["reason"]


def test_a_totals_row_is_left_out_only_when_it_holds_the_sums(tmp_path: Path) -> None:
    totals = _table(tmp_path / "t.csv", "item,qty,price\na,1,2.50\nb,2,2.50\nc,3,5.00\nd,4,0.50\nTotal,10,10.50\n")
    assert [r[0] for r in loaded_rows(totals)] == ["a", "b", "c", "d"]
    assert totals.rows is not None and [r.line for r in totals.rows.footer] == [6]
    assert totals.column("qty").type == "BIGINT"  # the label did not turn the column into text
    near = _table(tmp_path / "n.csv", "item,qty,price\na,1,2.50\nb,2,2.50\nc,3,5.00\nd,4,0.50\ne,10,11.00\n")
    assert len(loaded_rows(near)) == 5 and near.rows is not None and not near.rows.footer


def test_a_short_last_row_is_set_aside_not_taken_for_a_footer(tmp_path: Path) -> None:
    table = _table(tmp_path / "ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    assert table.rows is not None and table.rows.set_aside == 2 and not table.rows.footer


def test_a_sparse_last_row_right_below_the_table_stays_a_row(tmp_path: Path) -> None:
    table = _table(tmp_path / "sparse.csv", "name,score,team\nana,3,red\nbo,5,blue\ncy,,\n")
    assert [r[0] for r in loaded_rows(table)] == ["ana", "bo", "cy"]


def test_a_footer_alone_passes_strict_mode_and_is_said(tmp_path: Path) -> None:
    path = tmp_path / "strict.csv"
    path.write_text("a,b\n1,2\n3,4\n5,6\nSource: here\n")
    notes, tally = set_aside_notes(file_dataset([path]), strict=True)
    assert tally == {} and "1 line(s) after the table of strict.csv were left out" in notes[0]


def test_a_two_line_header_is_joined_and_the_data_keeps_its_types(tmp_path: Path) -> None:
    text = "Region,Sales,,Costs,\n,Q1,Q2,Q1,Q2\nEast,10,20,5,6\nWest,11,21,7,8\nNorth,1,2,3,4\n"
    table = _table(tmp_path / "h.csv", text)
    assert [c.name for c in table.columns] == ["Region", "Sales Q1", "Sales Q2", "Costs Q1", "Costs Q2"]
    assert [c.type for c in table.columns][1:] == ["BIGINT"] * 4
    assert loaded_rows(table)[0] == ("East", 10, 20, 5, 6)
    assert any("spans two lines" in n for n in table.notes)


def test_a_first_data_row_with_one_word_in_a_number_column_is_no_header_line(tmp_path: Path) -> None:
    table = _table(tmp_path / "d.csv", "name,qty,price\nana,n/a,2.5\nbo,2,3.5\ncy,3,4.5\n")
    assert [c.name for c in table.columns] == ["name", "qty", "price"] and len(loaded_rows(table)) == 3


def test_money_and_percentages_are_numbers_when_the_whole_column_is(tmp_path: Path) -> None:
    text = 'item,price,share\na,"$1,234.50",12.5%\nb,(1200),3%\nc,€ 12,-4.25 %\nd,,\n'
    table = _table(tmp_path / "m.csv", text)
    assert [c.type for c in table.columns] == ["VARCHAR", "DOUBLE", "DOUBLE"]
    assert loaded_rows(table) == [("a", 1234.5, 12.5), ("b", -1200.0, 3.0), ("c", 12.0, -4.25), ("d", None, None)]
    assert any("money amounts" in n for n in table.notes) and any("percentages" in n for n in table.notes)


def test_a_money_column_with_another_value_past_the_sample_stays_text(tmp_path: Path) -> None:
    rows = "".join(f"r{i},${i}.50\n" for i in range(1, 800))
    table = _table(tmp_path / "late.csv", f"item,price\n{rows}last,ask us\n")
    assert table.column("price").type == "VARCHAR"
    values = [r[1] for r in loaded_rows(table)]
    assert values[0] == "$1.50" and values[-1] == "ask us" and len(values) == 800
    assert any("'ask us' is not a money amount" in n for n in table.notes)


def test_money_with_a_decimal_comma(tmp_path: Path) -> None:
    table = _table(tmp_path / "eu.csv", "item;price\na;1.234,50 €\nb;12,00 €\nc;3,10 €\n")
    assert [r[1] for r in loaded_rows(table)] == [1234.5, 12.0, 3.1]


def test_day_first_dates_are_proven_by_the_values_or_the_order_is_said(tmp_path: Path) -> None:
    proven = _table(tmp_path / "p.csv", "id,day\n1,05/01/2024\n2,31/12/2024\n")
    assert proven.column("day").type == "DATE"
    assert [str(r[1]) for r in loaded_rows(proven)] == ["2024-01-05", "2024-12-31"]
    assert not any("day or month first" in n for n in proven.notes)
    unproven = _table(tmp_path / "u.csv", "id,day\n1,05/01/2024\n2,11/12/2024\n")
    assert any("could be day or month first" in n for n in unproven.notes), unproven.notes


def test_a_cp1252_byte_past_the_head_makes_the_whole_file_cp1252(tmp_path: Path) -> None:
    head = b"id,label\n" + b"".join(b"%d,caf\xe9 au lait\n" % i for i in range(SAMPLE_BYTES // 16 + 10))
    path = tmp_path / "w.csv"
    table = _table(path, head + b"99999999,\x93quoted\x94\n")
    assert any("CP1252" in n for n in table.notes), table.notes
    rows = loaded_rows(table)
    assert rows[-1] == (99999999, "\u201cquoted\u201d") and rows[0][1] == "café au lait"


def test_a_last_row_of_counting_columns_is_a_row_not_totals(tmp_path: Path) -> None:
    text = "id,city,amount\n" + "".join(f"{i},City {i % 3},{i * 1.5}\n" for i in range(4))
    table = _table(tmp_path / "count.csv", text)
    assert len(loaded_rows(table)) == 4 and table.rows is not None and not table.rows.footer
