"""Hostile SQL must be rejected by the policy, each with the rule it breaks.

Every case here reaches files, the network, settings, the environment or state outside the dataset (or
tries to); removing the matching protection from the policy makes its case fail.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from csvanalyst.errors import PolicyError
from csvanalyst.plan.policy import check_sql

TABLES = ("orders", "customers")
DATASET = "sales"

SYNTAX = [
    "SEL/**/ECT 1",
    "SELEC * FROM orders",
    "SELECT * FROM orders WHERE (",
    "SELECT 'unterminated",
    "SELECT $1",
    "SELECT * FROM orders WHERE id = ?",
    "SELECT $name",
    "SELECT * FROM $$x.csv$$",
    "SELECT " + "(" * 300 + "1" + ")" * 300,
    "SELECT * FROM 'x.csv'::table",
]
EMPTY = ["", "   \n\t", "-- only a comment", "/* block */", ";"]
MULTIPLE = [
    "SELECT 1; DROP TABLE orders",
    "SELECT 1; SELECT 2",
    "select 1;\nATTACH '/tmp/x.db'",
    "SELECT 1; EXPORT DATABASE '/tmp/x'",
    "SELECT 1; COPY orders TO '/tmp/x.csv'",
    "SELECT ';'; SELECT getenv('HOME')",
]
NOT_READ_ONLY = [
    "COPY (SELECT 1) TO '/tmp/x'",
    "copy orders to '/tmp/o.csv' (HEADER)",
    "COPY orders FROM '/etc/passwd'",
    "ATTACH '/tmp/x.db'",
    "ATTACH 'x.db' AS x (READ_ONLY)",
    "DETACH x",
    "INSTALL httpfs",
    "install HTTPFS",
    "FORCE INSTALL httpfs",
    "INSTALL httpfs FROM 'http://example.com'",
    "LOAD httpfs",
    "LoAd 'httpfs'",
    "PRAGMA version",
    "pragma enable_profiling",
    "SET memory_limit='1TB'",
    "set enable_external_access = true",
    "SET GLOBAL threads = 64",
    "SET VARIABLE x = 1",
    "RESET memory_limit",
    "CALL pragma_version()",
    "call dbgen(sf = 1)",
    "EXPORT DATABASE '/tmp/x'",
    "IMPORT DATABASE '/tmp/x'",
    "CREATE TABLE t AS SELECT 1",
    "create view v as select 1",
    "CREATE MACRO m(a) AS a",
    "CREATE SECRET s (TYPE s3, KEY_ID 'x', SECRET 'y')",
    "CREATE SEQUENCE s",
    "INSERT INTO orders VALUES (1)",
    "UPDATE orders SET id = 1",
    "DELETE FROM orders",
    "DROP TABLE orders",
    "ALTER TABLE orders ADD COLUMN x INT",
    "TRUNCATE orders",
    "MERGE INTO orders USING customers ON orders.id = customers.id WHEN MATCHED THEN DELETE",
    "CHECKPOINT",
    "VACUUM",
    "USE other",
    "DESCRIBE orders",
    "SHOW TABLES",
    "SUMMARIZE orders",
    "BEGIN TRANSACTION",
    "COMMIT",
    "ROLLBACK",
    "PREPARE p AS SELECT 1",
    "EXECUTE p",
    "DEALLOCATE p",
    "EXPLAIN ANALYZE SELECT 1",
    "UPDATE EXTENSIONS",
    "SELECT 1 INTO t",
    "SELECT * INTO copy_of_orders FROM orders",
    "SELECT * FROM (DESCRIBE orders)",
    "WITH x AS (SHOW TABLES) SELECT * FROM x",
    "/* harmless */ DROP TABLE orders",
    "  -- comment first\n  ATTACH 'x.db'",
]
FORBIDDEN_FUNCTION = [
    "SELECT getenv('OPENAI_API_KEY')",
    "select GETENV('HOME')",
    "SELECT upper(getenv('HOME'))",
    "SELECT 'HOME'.getenv()",
    "SELECT \"getenv\"('HOME')",
    "SELECT main.getenv('HOME')",
    "SELECT current_setting('memory_limit')",
    "SELECT getvariable('x')",
    "SELECT nextval('s')",
    "SELECT currval('s')",
    "SELECT setval('s', 1)",
    "SELECT which_secret('s3://bucket/x', 's3')",
    "SELECT load_extension('httpfs')",
    "SELECT enable_profiling()",
    "SELECT json_execute_serialized_sql('{}')",
    "SELECT read_text('/etc/passwd')",
    "SELECT * FROM orders WHERE id = (SELECT length(getenv('HOME')))",
    "SELECT id FROM orders UNION SELECT length(getenv('HOME'))",
    "WITH x AS (SELECT getenv('HOME') AS h) SELECT * FROM x",
    "SELECT list_transform([1], x -> getenv('HOME'))",
    "SELECT id FROM orders ORDER BY getenv('x')",
    "SELECT count(*) FILTER (WHERE getenv('x') IS NULL) FROM orders",
    "SELECT * FROM orders QUALIFY getenv('x') = ''",
    "SELECT * FROM orders o JOIN customers c ON getenv('x') = c.name",
    "SELECT sum(id) OVER (PARTITION BY getenv('x')) FROM orders",
]
FORBIDDEN_TABLE_FUNCTION = [
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM READ_CSV('/etc/passwd')",
    "SELECT * FROM ReAd_CsV('x.csv')",
    "SELECT * FROM \"read_csv\"('x.csv')",
    "FROM read_csv('/etc/passwd') SELECT *",
    "SELECT * FROM read_parquet('s3://bucket/x.parquet')",
    "SELECT * FROM read_json('x.json')",
    "SELECT * FROM read_json_auto('x.json')",
    "SELECT * FROM read_ndjson('x.json')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('*')",
    "SELECT * FROM parquet_scan('x.parquet')",
    "SELECT * FROM parquet_metadata('x.parquet')",
    "SELECT * FROM sniff_csv('x.csv')",
    "SELECT * FROM query('SELECT getenv(''HOME'')')",
    "SELECT * FROM query_table('orders')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_tables()",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM pragma_table_info('orders')",
    "SELECT * FROM sqlite_scan('x.db', 't')",
    "SELECT * FROM postgres_scan('host=x', 'public', 't')",
    "SELECT * FROM iceberg_scan('s3://b/t')",
    "SELECT * FROM delta_scan('s3://b/t')",
    "SELECT * FROM checkpoint()",
    "SELECT * FROM test_all_types()",
    "SELECT * FROM TABLE(read_csv('x.csv'))",
    "SELECT * FROM main.range(3)",
    "SELECT * FROM orders, read_text('/etc/passwd')",
    "SELECT * FROM orders o JOIN read_csv('x.csv') r ON true",
    "SELECT * FROM orders, LATERAL read_csv(orders.id::VARCHAR)",
    "WITH x AS (SELECT * FROM read_parquet('a')) SELECT * FROM x",
    "WITH read_csv AS (SELECT 1) SELECT * FROM read_csv('x.csv')",
    "WITH a AS (SELECT 1), b AS (SELECT * FROM a, glob('*')) SELECT * FROM b",
    "SELECT (SELECT max(file) FROM glob('*'))",
    "SELECT * FROM orders WHERE id IN (SELECT * FROM glob('x'))",
    "SELECT * FROM orders WHERE EXISTS (FROM read_text('/etc/passwd'))",
    "SELECT id FROM orders UNION ALL SELECT content FROM read_text('/etc/passwd')",
    "SELECT * FROM (SELECT * FROM (SELECT * FROM read_csv('x.csv')))",
    # DuckDB strings do not escape with a backslash; the read_text call below is real SQL, not string text.
    "SELECT 'x\\', (SELECT content FROM read_text('/etc/passwd')), '\\'",
]
FILE_ACCESS = [
    "SELECT * FROM 'data.csv'",
    "FROM 'x.parquet'",
    "SELECT * FROM 's3://bucket/x.parquet'",
    "SELECT * FROM 'https://example.com/x.csv'",
    "SELECT * FROM 'file:///etc/passwd'",
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM 'orders'",
    "SELECT * FROM 'x.csv' AS t",
    "SELECT * FROM orders JOIN '/etc/passwd' ON true",
    "SELECT * FROM orders, (FROM 'x.csv')",
    "WITH x AS (FROM 'x.csv') SELECT * FROM x",
    "SELECT id FROM orders UNION ALL SELECT * FROM '/etc/passwd'",
    "SELECT * FROM orders WHERE id IN (SELECT id FROM '*.csv')",
    "PIVOT 'x.csv' ON a USING sum(b)",
]
UNKNOWN_TABLE = [
    'SELECT * FROM "x.csv"',
    "SELECT * FROM sqlite_master",
    "SELECT * FROM duckdb_tables",
    "SELECT * FROM read_csv",
    "SELECT * FROM other",
    "SELECT * FROM information_schema",
    "SELECT * FROM sales.other",
    "SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) AS a, x",
    "WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
    "SELECT * FROM orders WHERE id IN (SELECT id FROM secrets)",
]
FORBIDDEN_QUALIFIER = [
    "SELECT * FROM main.orders",
    "SELECT * FROM MAIN.ORDERS",
    'SELECT * FROM "main"."orders"',
    "SELECT * FROM temp.orders",
    "SELECT * FROM system.orders",
    "SELECT * FROM otherdataset.orders",
    "SELECT * FROM information_schema.tables",
    "SELECT * FROM pg_catalog.pg_class",
    "SELECT * FROM memory.main.orders",
    "SELECT * FROM sales.main.orders",
    "SELECT * FROM system.main.duckdb_settings",
    "SELECT * FROM file.csv",
    "SELECT * FROM orders WHERE id IN (SELECT id FROM main.orders)",
]

CASES = [
    *[(sql, "syntax") for sql in SYNTAX],
    *[(sql, "empty") for sql in EMPTY],
    *[(sql, "multiple_statements") for sql in MULTIPLE],
    *[(sql, "not_read_only") for sql in NOT_READ_ONLY],
    *[(sql, "forbidden_function") for sql in FORBIDDEN_FUNCTION],
    *[(sql, "forbidden_table_function") for sql in FORBIDDEN_TABLE_FUNCTION],
    *[(sql, "file_access") for sql in FILE_ACCESS],
    *[(sql, "unknown_table") for sql in UNKNOWN_TABLE],
    *[(sql, "forbidden_qualifier") for sql in FORBIDDEN_QUALIFIER],
]


@pytest.mark.parametrize(("sql", "rule"), CASES)
def test_hostile_sql_is_rejected_with_its_rule(sql: str, rule: str) -> None:
    with pytest.raises(PolicyError) as caught:
        check_sql(sql, tables=TABLES, dataset=DATASET)
    error = caught.value
    assert error.rule == rule, error.message
    assert f"'{rule}'" in error.message
    assert error.hint


@pytest.mark.parametrize(("sql", "rule"), CASES)
def test_hostile_sql_is_rejected_without_a_dataset_or_schema_too(sql: str, rule: str) -> None:
    schema = {"orders": {"id": "BIGINT"}, "customers": {"id": "BIGINT", "name": "VARCHAR"}}
    with pytest.raises(PolicyError):
        check_sql(sql, tables=TABLES, schema=schema)


def test_rejected_side_doors_really_open_in_plain_duckdb(tmp_path: Path) -> None:
    """The string-as-table and read_text doors exist in DuckDB; the policy is what closes them."""
    secret = tmp_path / "secret.csv"
    secret.write_text("token\nabc123\n")
    con = duckdb.connect()
    assert con.execute(f"SELECT * FROM '{secret}'").fetchall() == [("abc123",)]
    assert "abc123" in con.execute(f"SELECT content FROM read_text('{secret}')").fetchone()[0]
    for sql in (f"SELECT * FROM '{secret}'", f"SELECT content FROM read_text('{secret}')"):
        with pytest.raises(PolicyError):
            check_sql(sql, tables=TABLES, dataset=DATASET)


def test_hidden_statement_after_a_string_with_a_semicolon_is_caught() -> None:
    with pytest.raises(PolicyError) as caught:
        check_sql("SELECT 'a;b' AS x; DROP TABLE orders", tables=TABLES)
    assert caught.value.rule == "multiple_statements"


def test_comments_never_reach_duckdb() -> None:
    """The SQL handed on is regenerated without comments, so a comment cannot hide a second statement."""
    con = duckdb.connect()
    con.execute("CREATE TABLE orders AS SELECT 1 AS id")
    checked = check_sql("SELECT id FROM orders -- */ ; DROP TABLE orders\n", tables=TABLES)
    assert "DROP" not in checked.sql
    assert "--" not in checked.sql and "/*" not in checked.sql
    assert con.execute(checked.sql).fetchall() == [(1,)]
    assert con.execute("SELECT count(*) FROM orders").fetchall() == [(1,)]
