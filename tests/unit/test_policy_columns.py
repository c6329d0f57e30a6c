"""Unknown columns are caught with suggestions, and valid SQL is never rejected for its columns."""

from __future__ import annotations

import pytest

from csvanalyst.errors import PolicyError
from csvanalyst.plan.policy import check_sql

TABLES = ("orders", "customers")
SCHEMA = {
    "orders": {"id": "BIGINT", "customer_id": "BIGINT", "amount": "DOUBLE", "s": "STRUCT(a BIGINT)"},
    "customers": {"id": "BIGINT", "name": "VARCHAR", "City": "VARCHAR"},
}


def _check(sql: str) -> None:
    check_sql(sql, tables=TABLES, dataset="sales", schema=SCHEMA)


@pytest.mark.parametrize(
    ("sql", "column", "suggestion"),
    [
        ("SELECT amout FROM orders", "amout", "amount"),
        ("SELECT o.amout FROM orders o", "amout", "amount"),
        ("SELECT orders.custmer_id FROM orders", "custmer_id", "customer_id"),
        ("SELECT sales.orders.amout FROM sales.orders", "amout", "amount"),
        ("SELECT id FROM orders WHERE amont > 3", "amont", "amount"),
        ("SELECT id FROM orders ORDER BY amuont", "amuont", "amount"),
        ("SELECT count(*) FROM orders GROUP BY custome_id", "custome_id", "customer_id"),
        ("SELECT * FROM orders WHERE id IN (SELECT id FROM customers WHERE nme = 'x')", "nme", "name"),
        ("WITH t AS (SELECT amont FROM orders) SELECT * FROM t", "amont", "amount"),
        ("SELECT * EXCLUDE (amout) FROM orders", "amout", "amount"),
        ("SELECT c.naem FROM orders o JOIN customers c ON o.customer_id = c.id", "naem", "name"),
        # no close spelling: a name made of the real one's words and more, or of some of them
        ("SELECT amount_value FROM orders", "amount_value", "amount"),
        ("SELECT idCustomer FROM orders", "idCustomer", "customer_id"),
    ],
)
def test_unknown_column_is_rejected_with_a_suggestion(sql: str, column: str, suggestion: str) -> None:
    with pytest.raises(PolicyError) as caught:
        _check(sql)
    error = caught.value
    assert error.rule == "unknown_column"
    assert f"'{column}'" in error.message
    assert f"Did you mean '{suggestion}'?" in error.message
    assert suggestion in error.hint
    assert error.position == sql.index(column)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM orders",
        "SELECT o.* FROM orders o",
        "SELECT ID, Amount FROM ORDERS",
        "SELECT amount AS a FROM orders ORDER BY a",
        "SELECT customer_id AS c, sum(amount) AS total FROM orders GROUP BY c HAVING total > 1",
        "SELECT amount * 2 AS double_amount, double_amount + 1 FROM orders",
        "SELECT * EXCLUDE (s) FROM orders",
        "SELECT * REPLACE (amount * 2 AS amount) FROM orders",
        "SELECT s.a FROM orders",
        "SELECT o.s.a FROM orders o",
        "SELECT list_transform([1, 2], x -> x + id) FROM orders",
        "SELECT [v * 2 FOR v IN [1, 2]] FROM orders",
        "WITH t AS (SELECT amount AS amt FROM orders) SELECT amt FROM t",
        "WITH t(x, y) AS (SELECT id, amount FROM orders) SELECT x + y FROM t",
        "SELECT sub.total FROM (SELECT sum(amount) AS total FROM orders) sub",
        "SELECT * FROM orders JOIN customers USING (id)",
        "SELECT rowid FROM orders",
        "SELECT orders FROM orders",
        "SELECT sum(amount) OVER w FROM orders WINDOW w AS (ORDER BY id)",
        "SELECT x FROM (VALUES (1)) t(x)",
        "SELECT range FROM range(3)",
        "SELECT v FROM orders, unnest([1, 2]) AS u(v)",
        "SELECT extract(year FROM current_date), date_trunc('month', current_date)",
        "SELECT id FROM orders ORDER BY ALL",
        "SELECT customer_id, count(*) FROM orders GROUP BY ALL",
        "SELECT COLUMNS('a.*') FROM orders",
        "WITH orders AS (SELECT 1 AS fresh) SELECT fresh FROM orders",
        "SELECT n FROM (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) FROM r)",
        "SELECT struct_pack(k := 1) AS st",
        'SELECT "City" FROM customers',
    ],
)
def test_valid_columns_pass(sql: str) -> None:
    _check(sql)


def test_column_of_a_table_the_query_does_not_read_says_where_it_lives() -> None:
    with pytest.raises(PolicyError) as caught:
        _check("SELECT city FROM orders")
    assert caught.value.rule == "unknown_column"
    assert "exists in customers" in caught.value.message


def test_table_missing_from_the_schema_is_not_column_checked() -> None:
    check_sql("SELECT anything FROM orders", tables=TABLES, schema={"customers": {"id": "BIGINT"}})


def test_without_a_schema_columns_are_left_to_duckdb() -> None:
    check_sql("SELECT amout FROM orders", tables=TABLES)


def test_double_quoted_text_value_gets_a_hint_about_quotes() -> None:
    with pytest.raises(PolicyError) as caught:
        _check('SELECT id FROM customers WHERE name = "Ada Lovelace"')
    assert caught.value.rule == "unknown_column"
    assert "single quotes: 'Ada Lovelace'" in caught.value.message


def test_unquoted_unknown_column_gets_no_quote_hint() -> None:
    with pytest.raises(PolicyError) as caught:
        _check("SELECT amout FROM orders")
    assert "single quotes" not in caught.value.message


def test_table_name_aggregated_as_a_column_says_it_is_a_table() -> None:
    with pytest.raises(PolicyError) as caught:
        _check("SELECT avg(orders) FROM orders")
    assert caught.value.rule == "table_as_column"
    assert "'orders' is a table, not a column" in caught.value.message
    assert "amount" in caught.value.hint and len(caught.value.message + caught.value.hint) < 400


def test_selecting_a_table_as_a_row_is_still_allowed() -> None:
    _check("SELECT orders FROM orders")
