"""Legitimate analyst SQL must pass the policy and keep its meaning.

Each query is checked, then both the original (with plain table names) and the rewritten SQL run in a real
DuckDB holding the dataset's tables; the results must match.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest

from csvanalyst.plan.policy import check_sql

TABLES = ("orders", "customers", "Order Items")
SCHEMA = {
    "orders": {
        "id": "BIGINT",
        "customer_id": "BIGINT",
        "amount": "DOUBLE",
        "order_date": "DATE",
        "items": "BIGINT[]",
        "s": "STRUCT(a BIGINT)",
    },
    "customers": {"id": "BIGINT", "name": "VARCHAR", "home city": "VARCHAR"},
    "Order Items": {"order_id": "BIGINT", "sku": "VARCHAR"},
}


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE orders AS SELECT range AS id, range % 3 AS customer_id, range * 1.5 AS amount, "
        "DATE '2024-01-01' + range::INT AS order_date, [range, range + 1] AS items, {'a': range} AS s "
        "FROM range(25)"
    )
    con.execute(
        "CREATE TABLE customers AS SELECT * FROM (VALUES (0, 'Ann', 'Oslo'), (1, 'Bob', 'Rome'), "
        "(2, 'Cy', 'Lima')) t(id, name, \"home city\")"
    )
    con.execute("CREATE TABLE \"Order Items\" AS SELECT range % 25 AS order_id, 'sku' || range AS sku FROM range(40)")
    yield con
    con.close()


# (query as an analyst writes it, the same query with plain table names to compare against)
LEGIT = [
    ("SELECT 1", None),
    ("SELECT 1;", "SELECT 1"),
    ("SELECT 1 -- trailing comment", None),
    ("/* leading comment */ SELECT count(*) FROM orders", None),
    ("VALUES (1), (2)", None),
    ("FROM orders", None),
    ("FROM orders SELECT id WHERE id < 3", None),
    ("SELECT * FROM sales.orders", "SELECT * FROM orders"),
    ("SELECT sales.orders.amount FROM sales.orders", "SELECT orders.amount FROM orders"),
    ("SELECT * FROM ORDERS", None),
    ('SELECT * FROM "Orders"', None),
    ('SELECT * FROM "order items"', 'SELECT * FROM "Order Items"'),
    ('SELECT "home city" FROM customers', None),
    ("SELECT o.id, c.name FROM orders o JOIN customers c ON o.customer_id = c.id", None),
    ("SELECT * FROM orders LEFT JOIN customers USING (id)", None),
    ("SELECT count(*) FROM orders, customers", None),
    ("SELECT * FROM orders POSITIONAL JOIN customers", None),
    ("WITH big AS (SELECT * FROM orders WHERE amount > 10) SELECT count(*) FROM big", None),
    ("WITH a AS (SELECT id FROM orders), b AS (SELECT * FROM a WHERE id > 20) SELECT * FROM b", None),
    ("WITH read_csv AS (SELECT 1 AS x) SELECT * FROM read_csv", None),
    (
        "WITH duckdb_settings AS (SELECT 2 AS y), information_schema AS (SELECT 3 AS z) "
        "FROM duckdb_settings, information_schema",
        None,
    ),
    ("WITH orders AS (SELECT 42 AS answer) SELECT answer FROM orders", None),
    ("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r", None),
    ("SELECT id, amount - lag(amount) OVER (ORDER BY id) AS delta FROM orders", None),
    ("SELECT id, sum(amount) OVER w FROM orders WINDOW w AS (ORDER BY id)", None),
    ("SELECT * FROM orders QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC) = 1", None),
    ("SELECT customer_id, count(*) AS n FROM orders GROUP BY ALL ORDER BY ALL", None),
    ("SELECT customer_id AS c, sum(amount) AS total FROM orders GROUP BY c HAVING total > 100 ORDER BY c", None),
    ("SELECT id FROM orders WHERE id < 3 UNION ALL SELECT id FROM customers", None),
    ("SELECT id FROM orders UNION SELECT id FROM customers", None),
    ("SELECT id FROM orders INTERSECT SELECT id FROM customers", None),
    ("SELECT id FROM orders EXCEPT SELECT id FROM customers", None),
    ("SELECT * FROM orders UNION ALL BY NAME SELECT * FROM orders", None),
    ("SELECT 'read_csv(''/etc/passwd'')' AS s, ';' AS t, 'DROP TABLE orders' AS u", None),
    ("SELECT strftime(order_date, '%Y-%m') AS month, count(*) FROM orders GROUP BY 1", None),
    ("SELECT date_trunc('month', order_date), extract(year FROM order_date) FROM orders", None),
    ("SELECT order_date + INTERVAL 1 DAY, order_date - DATE '2023-12-31' FROM orders", None),
    ("SELECT * FROM orders WHERE order_date BETWEEN '2024-01-03' AND '2024-01-05'", None),
    ("SELECT regexp_matches(name, '^A') FROM customers", None),
    ("SELECT regexp_replace(name, 'o', '0', 'g') FROM customers", None),
    ("SELECT list_aggregate(items, 'sum') FROM orders", None),
    (
        "SELECT list_transform(items, x -> x * 2) FROM orders",
        "SELECT list_transform(items, lambda x: x * 2) FROM orders",
    ),
    ("SELECT [x * 2 FOR x IN items] FROM orders", None),
    ("SELECT s.a, o.s.a FROM orders o", None),
    ("SELECT unnest(items) FROM orders", None),
    ("SELECT * FROM orders o, unnest(o.items) AS u(v)", None),
    ("SELECT * FROM range(10)", None),
    ("SELECT * FROM generate_series(1, 3)", None),
    ("SELECT * FROM unnest([1, 2, 3])", None),
    ("SELECT * EXCLUDE (items, s) FROM orders", None),
    ("SELECT * REPLACE (amount * 2 AS amount) FROM orders", None),
    ("SELECT COLUMNS('.*id') FROM orders", None),
    ("SELECT max(amount) FILTER (WHERE id > 2), median(amount), quantile_cont(amount, 0.9) FROM orders", None),
    ("SELECT arg_max(id, amount), approx_count_distinct(customer_id) FROM orders", None),
    ("SELECT CAST(id AS VARCHAR), id::DOUBLE, try_cast('x' AS INT) FROM orders", None),
    ("SELECT CASE WHEN amount > 10 THEN 'big' ELSE 'small' END FROM orders", None),
    ("SELECT coalesce(NULL, 1), nullif(1, 1), greatest(1, 2), round(2.567, 1)", None),
    ("SELECT current_date IS NOT NULL, version() IS NOT NULL", None),
    ("SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers WHERE name = 'Ann')", None),
    ("SELECT (SELECT max(amount) FROM orders) AS top", None),
    ("SELECT * FROM (SELECT * FROM orders) AS sub WHERE sub.id < 4", None),
    ("SELECT * FROM (VALUES (1, 'a'), (2, 'b')) t(n, letter)", None),
    ("PIVOT orders ON customer_id IN (1, 2) USING sum(amount) GROUP BY id", None),
    ("SELECT orders FROM orders WHERE id = 1", None),
    ('UNPIVOT customers ON name, "home city" INTO NAME k VALUE v', None),
    ('SELECT * FROM customers UNPIVOT (v FOR k IN (name, "home city"))', None),
    ("SELECT * FROM orders o, LATERAL (SELECT o.id * 2 AS twice)", None),
    ("SELECT count(*) FROM orders ASOF JOIN customers ON orders.customer_id >= customers.id", None),
    ('SELECT order_id, count(*) FROM "Order Items" GROUP BY order_id', None),
]


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    return sorted(repr(row) for row in con.execute(sql).fetchall())


@pytest.mark.parametrize(("sql", "plain"), LEGIT)
def test_legit_sql_passes_and_keeps_its_meaning(con: duckdb.DuckDBPyConnection, sql: str, plain: str | None) -> None:
    checked = check_sql(sql, tables=TABLES, dataset="sales", row_cap=1000)
    assert _rows(con, checked.sql) == _rows(con, plain or sql)


@pytest.mark.parametrize(("sql", "plain"), LEGIT)
def test_legit_sql_passes_column_checks(con: duckdb.DuckDBPyConnection, sql: str, plain: str | None) -> None:
    checked = check_sql(sql, tables=TABLES, dataset="sales", row_cap=1000, schema=SCHEMA)
    assert _rows(con, checked.sql) == _rows(con, plain or sql)


def test_ordered_query_keeps_its_order(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT id, amount FROM orders ORDER BY amount DESC, id"
    checked = check_sql(sql, tables=TABLES, row_cap=10)
    assert con.execute(checked.sql).fetchall() == con.execute(sql).fetchall()[:11]
