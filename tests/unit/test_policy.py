"""The policy's contract: what it returns, how it normalises names, and how it explains a rejection."""

from __future__ import annotations

import logging
import subprocess
import sys

import duckdb
import pytest

from csvanalyst.errors import PolicyError
from csvanalyst.plan.policy import CheckedSql, check_sql

TABLES = ("orders", "customers")


def _reject(sql: str, **kwargs: object) -> PolicyError:
    with pytest.raises(PolicyError) as caught:
        check_sql(sql, tables=kwargs.pop("tables", TABLES), **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize(
    ("sql", "statement_type"),
    [
        ("SELECT 1", "select"),
        ("FROM orders", "select"),
        ("SELECT 1 UNION ALL SELECT 2", "union"),
        ("SELECT 1 INTERSECT SELECT 1", "intersect"),
        ("SELECT 1 EXCEPT SELECT 2", "except"),
        ("VALUES (1), (2)", "values"),
        ("PIVOT orders ON customer_id IN (1, 2) USING count(*)", "pivot"),
        ("(SELECT 1)", "select"),
        ("UNPIVOT orders ON id, customer_id INTO NAME k VALUE v", "unpivot"),
    ],
)
def test_statement_type(sql: str, statement_type: str) -> None:
    assert check_sql(sql, tables=TABLES).statement_type == statement_type


def test_result_names_canonical_tables_once_each() -> None:
    checked = check_sql(
        "SELECT * FROM sales.ORDERS o JOIN Customers c ON o.id = c.id JOIN orders USING (id)",
        tables=TABLES,
        dataset="Sales",
    )
    assert isinstance(checked, CheckedSql)
    assert checked.tables == ("orders", "customers")
    assert "sales" not in checked.sql.lower()


def test_table_names_resolve_to_the_canonical_spelling() -> None:
    checked = check_sql('SELECT * FROM "ORDER items", sales."order Items"', tables=["Order Items"], dataset="sales")
    assert checked.tables == ("Order Items",)
    assert checked.sql.count('"Order Items"') == 2


def test_canonical_name_that_is_a_keyword_still_runs() -> None:
    con = duckdb.connect()
    con.execute('CREATE TABLE "select" AS SELECT 1 AS x')
    checked = check_sql('SELECT x FROM "SELECT"', tables=["select"])
    assert con.execute(checked.sql).fetchall() == [(1,)]


def test_dataset_qualifier_needs_a_dataset() -> None:
    assert _reject("SELECT * FROM sales.orders").rule == "forbidden_qualifier"


def test_cte_names_do_not_count_as_dataset_tables() -> None:
    checked = check_sql("WITH orders AS (SELECT 1 AS x) SELECT x FROM orders", tables=TABLES)
    assert checked.tables == ()


def test_a_qualified_name_never_resolves_to_a_cte() -> None:
    error = _reject("WITH x AS (SELECT 1) SELECT * FROM sales.x", dataset="sales")
    assert error.rule == "unknown_table"


def test_unknown_table_suggests_and_lists_tables() -> None:
    error = _reject("SELECT * FROM ordrs")
    assert error.rule == "unknown_table"
    assert "'ordrs'" in error.message
    assert "Did you mean 'orders'?" in error.message
    assert "customers, orders" in error.message
    assert "customers, orders" in error.hint


def test_forbidden_function_message_names_the_function_and_where() -> None:
    sql = "SELECT id,\n       upper(getenv('HOME')) FROM orders"
    error = _reject(sql)
    assert error.rule == "forbidden_function"
    assert "getenv" in error.message
    assert "line 2, column 14" in error.message
    assert error.position == sql.index("getenv")


def test_file_access_message_names_the_path() -> None:
    sql = "SELECT * FROM orders JOIN 's3://bucket/leak.parquet' ON true"
    error = _reject(sql)
    assert error.rule == "file_access"
    assert "s3://bucket/leak.parquet" in error.message
    assert error.position == sql.index("'s3://")


def test_syntax_error_has_line_column_and_caret() -> None:
    sql = "SELECT id\nFROM orders\nWHERE (id >"
    error = _reject(sql)
    assert error.rule == "syntax"
    assert "line 3" in error.message
    assert "WHERE (id >" in error.message
    assert "^" in error.message
    assert error.position is not None and error.position >= sql.index("WHERE")


def test_syntax_error_position_points_at_the_bad_token() -> None:
    sql = "SELECT 1 2 3"
    error = _reject(sql)
    assert error.rule == "syntax"
    assert error.position is not None
    caret_line = error.message.splitlines()[-1]
    source_line = error.message.splitlines()[-2]
    assert source_line.strip() == sql
    assert caret_line.index("^") - source_line.index("S") == error.position


def test_statement_rejection_points_at_the_statement() -> None:
    error = _reject("\n  DROP TABLE orders")
    assert error.rule == "not_read_only"
    assert "DROP TABLE orders" in error.message
    assert error.position == 3


def test_unparseable_write_statement_is_reported_as_not_read_only() -> None:
    error = _reject("EXPORT DATABASE '/tmp/out'")
    assert error.rule == "not_read_only"
    assert "EXPORT" in error.message


def test_trailing_semicolon_and_comment_are_one_statement() -> None:
    assert check_sql("SELECT 1; -- done", tables=TABLES).statement_type == "select"
    assert check_sql("SELECT 1;;", tables=TABLES).statement_type == "select"


def test_error_serialises_with_its_rule() -> None:
    data = _reject("DROP TABLE orders").to_dict()
    assert data["code"] == "rejected"
    assert data["rule"] == "not_read_only"
    assert data["hint"]


def test_negative_row_cap_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check_sql("SELECT 1", tables=TABLES, row_cap=-1)


def test_command_fallback_warning_is_not_printed(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        _reject("LOAD httpfs")
    assert not [record for record in caplog.records if "Falling back" in record.getMessage()]


def test_importing_the_policy_does_not_import_sqlglot() -> None:
    code = "import sys, csvanalyst.plan.policy; print('sqlglot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
