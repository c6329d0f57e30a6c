"""The one number rule every front end shows (the web page's copy of it is checked on the same cases
in tests/functional/test_web_browser.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from csvanalyst.core.numbers import format_cell, format_number, is_numeric_type

CASES = json.loads((Path(__file__).parents[1] / "fixtures" / "number_format_cases.json").read_text())


@pytest.mark.parametrize(("value", "shown"), CASES)
def test_numbers_keep_ten_significant_digits(value: float, shown: str) -> None:
    assert format_number(value) == shown


def test_thousands_only_on_request() -> None:
    assert format_number(1234567.891, thousands=True) == "1,234,567.891"
    assert format_number(-0.5, thousands=True) == "-0.5"
    assert format_number(-1234567, thousands=True) == "-1,234,567"
    assert format_number(1234567.891) == "1234567.891"


def test_decimals_nan_and_cells() -> None:
    assert format_number(Decimal("12.500")) == "12.5"
    assert format_number(float("nan")) == "NaN" and format_number(float("-inf")) == "-inf"
    assert format_cell(None) == "" and format_cell(True) == "True" and format_cell("x") == "x"


def test_numeric_types() -> None:
    assert is_numeric_type("DECIMAL(18,3)") and is_numeric_type("double") and not is_numeric_type("VARCHAR")
