"""An answer given before any query ran: a query written out as text, or numbers made up."""

from __future__ import annotations

import pytest

from csvanalyst.agent.coerce import looks_like_sql
from csvanalyst.agent.grounding import guessed_numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("```sql\nSELECT avg(x) FROM t\n```", True),
        ("Here is the query:\n```\nWITH a AS (SELECT 1 FROM t) SELECT * FROM a\n```", True),
        ("SELECT count(*) FROM t", True),
        ("I would select the rows from the table where x is large.", False),
        ("```python\nprint(1)\n```", False),
    ],
)
def test_a_query_written_out_instead_of_a_tool_call_is_recognised(text: str, expected: bool) -> None:
    assert looks_like_sql(text) is expected


def test_numbers_not_from_the_question_are_guesses_but_small_counts_are_not() -> None:
    assert guessed_numbers("The average is about 3.00 and the total 1,234.", "average in 2007") == ["3.00", "1,234"]
    assert guessed_numbers("The table has 7 columns; in 2007 nothing is missing.", "rows in 2007") == []
    assert guessed_numbers("About 15% of rows.", "share") == ["15%"]
