"""The row cap: the SQL returned yields at most row_cap + 1 rows, so the runner can tell truncation."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from csvanalyst.plan.policy import check_sql

TABLES = ("orders",)


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute("CREATE TABLE orders AS SELECT range AS id, (range * 7) % 25 AS score FROM range(25)")
    yield con
    con.close()


def _run(con: duckdb.DuckDBPyConnection, sql: str, row_cap: int) -> list[tuple]:
    return con.execute(check_sql(sql, tables=TABLES, row_cap=row_cap).sql).fetchall()


@pytest.mark.parametrize(
    ("sql", "row_cap", "expected"),
    [
        ("SELECT * FROM orders", 10, 11),
        ("SELECT * FROM orders", 25, 25),
        ("SELECT * FROM orders", 24, 25),
        ("SELECT * FROM orders", 0, 1),
        ("SELECT * FROM orders LIMIT 5", 10, 5),
        ("SELECT * FROM orders LIMIT 50", 10, 11),
        ("SELECT * FROM orders LIMIT 50 OFFSET 20", 10, 5),
        ("SELECT * FROM orders ORDER BY id FETCH FIRST 20 ROWS ONLY", 10, 11),
        ("SELECT * FROM orders LIMIT 80 PERCENT", 10, 11),
        ("SELECT * FROM orders LIMIT (SELECT 3)", 10, 3),
        ("SELECT * FROM orders UNION ALL SELECT * FROM orders", 10, 11),
        ("SELECT id FROM orders UNION SELECT id + 100 FROM orders ORDER BY 1 LIMIT 30", 10, 11),
        ("(SELECT * FROM orders)", 10, 11),
        ("VALUES (1), (2), (3)", 1, 2),
        ("PIVOT orders ON score IN (1, 2) USING count(*) GROUP BY id", 10, 11),
        ("WITH t AS (SELECT * FROM orders LIMIT 100) SELECT * FROM t", 10, 11),
    ],
)
def test_row_cap_applies(con: duckdb.DuckDBPyConnection, sql: str, row_cap: int, expected: int) -> None:
    assert len(_run(con, sql, row_cap)) == expected


def test_cap_keeps_order_by(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT id, score FROM orders ORDER BY score DESC, id"
    assert _run(con, sql, 10) == con.execute(sql).fetchall()[:11]


def test_cap_keeps_order_by_on_a_union(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT id FROM orders UNION ALL SELECT score FROM orders ORDER BY 1 DESC"
    assert _run(con, sql, 5) == con.execute(sql).fetchall()[:6]


def test_cap_keeps_offset_and_a_smaller_limit(con: duckdb.DuckDBPyConnection) -> None:
    assert _run(con, "SELECT id FROM orders ORDER BY id LIMIT 3 OFFSET 2", 10) == [(2,), (3,), (4,)]


def test_small_values_are_left_alone() -> None:
    assert check_sql("VALUES (1), (2)", tables=TABLES, row_cap=10).sql == "VALUES (1), (2)"


def test_inner_limits_are_not_touched() -> None:
    sql = check_sql("SELECT * FROM (SELECT * FROM orders LIMIT 20000) t", tables=TABLES, row_cap=10).sql
    assert "LIMIT 20000" in sql
    assert sql.endswith("LIMIT 11")
