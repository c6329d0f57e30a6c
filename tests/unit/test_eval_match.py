"""Execution match and suite parsing of `csvanalyst eval`."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvanalyst.errors import UsageError
from csvanalyst.evaluation import suite
from csvanalyst.evaluation.match import tables_match

WANT = [["West", 10, 1.23456], ["East", 7, 2.5]]


def test_column_order_and_names_do_not_matter() -> None:
    assert tables_match([[10, "West", 1.23456], [7, "East", 2.5]], WANT, ordered=True)


def test_row_order_matters_only_when_the_question_has_one() -> None:
    swapped = [WANT[1], WANT[0]]
    assert tables_match(swapped, WANT, ordered=False)
    assert not tables_match(swapped, WANT, ordered=True)


def test_float_rounding_and_label_case_are_tolerated() -> None:
    assert tables_match([["west ", 10, 1.23], ["EAST", 7.0, 2.5004]], WANT, ordered=True)
    assert not tables_match([["West", 10, 1.3], ["East", 7, 2.5]], WANT, ordered=True)


def test_small_numbers_keep_their_significant_digits() -> None:
    assert not tables_match([[0.012]], [[0.018]], ordered=True)
    assert tables_match([[0.01234]], [[0.0123]], ordered=True)


def test_a_missing_or_extra_row_is_never_a_match() -> None:
    assert not tables_match(WANT[:1], WANT, ordered=False)
    assert not tables_match([*WANT, ["North", 1, 1.0]], WANT, ordered=False)


def test_extra_columns_are_allowed_missing_ones_are_not() -> None:
    assert tables_match([["West", 10, 1.23456, "x"], ["East", 7, 2.5, "y"]], WANT, ordered=True)
    assert not tables_match([["West", 10], ["East", 7]], WANT, ordered=True)


def test_rows_must_agree_across_columns_not_only_column_by_column() -> None:
    # each column holds the same values as the reference's, but paired differently
    assert not tables_match([["West", 7], ["East", 10]], [["West", 10], ["East", 7]], ordered=False)


def test_dates_shown_as_midnight_timestamps_match_dates() -> None:
    assert tables_match([["2024-01-01"]], [["2024-01-01 00:00:00"]], ordered=True)
    assert not tables_match([["2024-01-01"]], [["2024-01-01 10:00:00"]], ordered=True)


def _write(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "suite.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_a_suite_resolves_files_next_to_it_and_names_cases(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '{"question": "how many?", "files": ["data.csv"], "sql": "SELECT 1"}',
        "",
        '{"id": "x", "question": "why?", "dataset": "retail", "unanswerable": true, "kind": "unanswerable"}',
    )
    _, cases = suite.load(path)
    assert [c.id for c in cases] == ["suite-1", "x"]
    assert cases[0].files == [str((tmp_path / "data.csv").resolve())]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "suite.jsonl:1: not valid JSON"),
        ('{"question": "q", "dataset": "retail"}', "exactly one of sql, expected, or unanswerable"),
        ('{"question": "q", "dataset": "retail", "sql": "SELECT 1", "colour": 1}', "colour"),
        ('{"question": "q", "sql": "SELECT 1"}', "give a dataset or files"),
    ],
)
def test_a_bad_line_is_a_usage_error_naming_the_line(tmp_path: Path, line: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as caught:
        suite.load(_write(tmp_path, line))
    assert ":1:" in caught.value.message


def test_shipped_suites_are_found_by_name() -> None:
    assert "demo" in suite.shipped()
    _, cases = suite.load("demo")
    assert {c.kind for c in cases} >= {"unanswerable", "ranking"}
    with pytest.raises(UsageError, match="No suite 'nope'"):
        suite.load("nope")


def test_the_public_data_suite_ships_with_the_package() -> None:
    from csvanalyst.evaluation import suite

    assert "public" in suite.shipped()
    path, cases = suite.load("public")
    assert len(cases) == 213 and sum(c.unanswerable for c in cases) == 27
    assert all(Path(f).is_file() for c in cases for f in c.files)
    assert {Path(c.files[0]).parent for c in cases} == {path.parent / "public"}
