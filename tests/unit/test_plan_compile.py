"""The compiler against real DuckDB: hostile values, awkward identifiers, and seeded random filters whose
row counts are checked against the same predicate evaluated in Python."""

from __future__ import annotations

import datetime as dt
import random
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot

from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo, TableSchema, TableSource
from csvanalyst.errors import PlanError
from csvanalyst.plan import model
from csvanalyst.plan.compile import compile_plan
from csvanalyst.plan.model import parse_plan, plan_json_schema
from csvanalyst.plan.values import coerce
from tests.fixtures.plans.retail import ORDERS, ORDERS_COLUMNS, connect, retail_dataset, run

HOSTILE = [
    "it's",
    "'; DROP TABLE things; --",
    "x' OR '1'='1",
    '"double" quotes',
    "back\\slash\\",
    "50%",
    "under_score",
    "%_%",
    "naïve café ☕",
    "Ünïcödé ÅÄÖ",
    "tab\tand\nnewline",
    "$$dollar$$",
    "{{braces}}",
    "/* not a comment */",
    "",
]
ODD_COLUMNS = [("order-id", "BIGINT"), ("select", "VARCHAR"), ("Unit Price", "DOUBLE"), ('say "hi"', "VARCHAR"),
               ("prix €", "DOUBLE"), ("from", "DATE")]  # fmt: skip


@pytest.fixture(scope="module")
def retail(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatasetInfo, duckdb.DuckDBPyConnection]:
    dataset = retail_dataset(tmp_path_factory.mktemp("retail"))
    return dataset, connect(dataset)


def _things(directory: Path) -> tuple[DatasetInfo, duckdb.DuckDBPyConnection]:
    """One table whose column names are awkward and whose `select` column holds the hostile strings."""
    path = directory / "things.parquet"
    con = duckdb.connect()
    ddl = ", ".join('"' + name.replace('"', '""') + f'" {kind}' for name, kind in ODD_COLUMNS)
    con.execute(f"CREATE TABLE things ({ddl})")
    rows = [(i, text, i * 1.5, text.upper(), 10.0 - i, dt.date(2024, 1, 1 + i)) for i, text in enumerate(HOSTILE)]
    con.executemany("INSERT INTO things VALUES (?, ?, ?, ?, ?, ?)", [list(r) for r in rows])
    con.execute(f"COPY things TO '{path}' (FORMAT parquet)")
    columns = [ColumnInfo(name=n, type=t) for n, t in ODD_COLUMNS]
    table = TableSchema(name="things", columns=columns, source=TableSource(path=str(path), format="parquet"))
    dataset = DatasetInfo(name="odd", tables=[table])
    return dataset, connect(dataset)


@pytest.fixture(scope="module")
def things(tmp_path_factory: pytest.TempPathFactory) -> tuple[DatasetInfo, duckdb.DuckDBPyConnection]:
    return _things(tmp_path_factory.mktemp("things"))


def _ids(dataset_con: tuple[DatasetInfo, duckdb.DuckDBPyConnection], plan: dict[str, Any]) -> list[Any]:
    dataset, con = dataset_con
    sql = compile_plan(parse_plan(plan), dataset)
    assert sqlglot.parse_one(sql, read="duckdb") is not None
    return [row[0] for row in run(con, sql)["rows"]]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_values_are_literals_that_match_exactly(things: Any, text: str) -> None:
    plan = {"table": "things", "select": ["order-id"], "filters": [{"column": "select", "op": "=", "value": text}]}
    assert _ids(things, plan) == [HOSTILE.index(text)]


@pytest.mark.parametrize("text", [t for t in HOSTILE if t])
@pytest.mark.parametrize("op", ["contains", "starts with", "ends with"])
def test_text_operators_match_literally_and_ignore_case(things: Any, text: str, op: str) -> None:
    needle = text[1:4].swapcase() if op == "contains" else text[:3].upper() if op == "starts with" else text[-3:]
    check = {"contains": str.__contains__, "starts with": str.startswith, "ends with": str.endswith}[op]
    expected = [i for i, t in enumerate(HOSTILE) if check(t.lower(), needle.lower())]
    plan = {"table": "things", "select": ["order-id"], "filters": [{"column": "select", "op": op, "value": needle}],
            "order_by": ["order-id"]}  # fmt: skip
    assert _ids(things, plan) == expected
    assert expected, "the needle comes from the row itself"


def test_in_list_of_hostile_values(things: Any) -> None:
    chosen = HOSTILE[:5]
    plan = {"table": "things", "select": ["order-id"], "filters": [{"column": "select", "op": "in", "value": chosen}],
            "order_by": ["order-id"]}  # fmt: skip
    assert _ids(things, plan) == [0, 1, 2, 3, 4]


def test_awkward_identifiers_in_every_clause(things: Any) -> None:
    plan = {
        "table": "things",
        "select": [{"column": "from", "bucket": "month", "as": "where"}],
        "aggregates": [{"fn": "sum", "column": "Unit Price", "as": "group"},
                       {"fn": "max", "column": 'say "hi"', "as": "order"},
                       {"fn": "avg", "expr": {"op": "*", "left": "prix €", "right": 2}, "as": "limit"}],
        "filters": [{"column": "order-id", "op": "<", "value": 3}],
        "having": [{"column": "group", "op": ">=", "value": 0}],
        "order_by": [{"column": "order", "desc": True}],
    }  # fmt: skip
    dataset, con = things
    result = run(con, compile_plan(parse_plan(plan), dataset))
    assert result["columns"] == ["where", "group", "order", "limit"]
    assert result["rows"] == [["2024-01-01", 4.5, "X' OR '1'='1", 18.0]]


def test_division_by_zero_gives_null(retail: Any) -> None:
    dataset, con = retail
    plan = {"table": "orders", "select": ["order_id", {"expr": {"op": "/", "left": "amount", "right": {
        "op": "-", "left": "quantity", "right": "quantity"}}, "as": "ratio"}], "filters": [
        {"column": "order_id", "op": "=", "value": 1}]}  # fmt: skip
    assert run(con, compile_plan(parse_plan(plan), dataset))["rows"] == [[1, None]]


def test_negative_numbers_cannot_form_a_comment(retail: Any) -> None:
    dataset, con = retail
    plan = {"table": "orders", "select": [{"expr": {"op": "-", "left": "quantity", "right": -1}, "as": "q"}],
            "filters": [{"column": "order_id", "op": "=", "value": 1}]}  # fmt: skip
    sql = compile_plan(parse_plan(plan), dataset)
    assert "--" not in sql
    assert run(con, sql)["rows"] == [[5]]


def test_default_aggregate_names(retail: Any) -> None:
    dataset, con = retail
    plan = {"table": "orders", "aggregates": [
        {"fn": "count"}, {"fn": "count", "column": "note"}, {"fn": "count_distinct", "column": "status"},
        {"fn": "percentile", "column": "amount", "p": 0.995},
        {"fn": "percentile", "column": "amount", "p": 0.5}]}  # fmt: skip
    result = run(con, compile_plan(parse_plan(plan), dataset))
    assert result["columns"] == ["count", "count_note", "count_distinct_status", "p99_5_amount", "p50_amount"]
    assert result["rows"][0][:3] == [20, 12, 5]  # 12 orders have a note


def test_limit_and_default_select_star(retail: Any) -> None:
    dataset, con = retail
    result = run(con, compile_plan(parse_plan({"table": "orders", "order_by": ["order_id"], "limit": 2}), dataset))
    assert result["columns"] == [c for c, _ in ORDERS_COLUMNS]
    assert [r[0] for r in result["rows"]] == [1, 2]


def test_the_docstring_example_compiles_and_runs(retail: Any) -> None:
    dataset, con = retail
    doc = model.__doc__ or ""
    example = doc[doc.index('{"table"') : doc.index("Rules worth knowing")].strip()
    sql = compile_plan(parse_plan(example), dataset)
    result = run(con, sql)
    assert result["columns"] == ["region", "month", "revenue", "orders", "p90_amount"]
    assert result["rows"] == []  # no region reaches the example's revenue > 1000


def test_json_schema_uses_json_names() -> None:
    schema = plan_json_schema()
    assert schema["required"] == ["table"]
    assert "as" in schema["$defs"]["Aggregate"]["properties"]
    assert "alias" not in schema["$defs"]["Aggregate"]["properties"]
    assert "not in" in str(schema["$defs"]["Filter"]["properties"]["op"])


# Seeded random filters: the compiled SQL must parse, run, and count the rows Python counts.
_FIELDS = {c: i for i, (c, _) in enumerate(ORDERS_COLUMNS)}
_SAMPLES: dict[str, list[Any]] = {
    "order_id": [0, 1, 7, 20, 21],
    "customer_id": [1, 2, 5, 9],
    "order_date": ["2024-01-05", "2024-02-29", "2024-06-30", "2025-01-02"],
    "status": ["shipped", "pending", "Shipped", "nope"],
    "quantity": [1, 3, 8],
    "amount": [7.5, 20, 20.5, 63.0],
    "note": ["gift", "%", "it's", "'", "_"],
}
_OPS_BY_COLUMN = {c: ["=", "!=", "<", "<=", ">", ">=", "in", "not in", "between", "is null", "is not null"]
                  for c in _SAMPLES}  # fmt: skip
_OPS_BY_COLUMN["note"] += ["contains", "starts with", "ends with"]
_OPS_BY_COLUMN["status"] += ["contains"]


def _random_filter(rng: random.Random) -> dict[str, Any]:
    column = rng.choice(sorted(_SAMPLES))
    op = rng.choice(_OPS_BY_COLUMN[column])
    pick = _SAMPLES[column]
    if op in ("is null", "is not null"):
        return {"column": column, "op": op}
    if op == "between":
        return {"column": column, "op": op, "value": sorted(rng.sample(pick, 2))}
    if op in ("in", "not in"):
        return {"column": column, "op": op, "value": rng.sample(pick, rng.randint(1, len(pick)))}
    return {"column": column, "op": op, "value": rng.choice(pick)}


def _holds(flt: dict[str, Any], row: tuple[Any, ...]) -> bool:
    """SQL semantics: any comparison with NULL is not true."""
    cell, op, value = row[_FIELDS[flt["column"]]], flt["op"], flt.get("value")
    if op in ("is null", "is not null"):
        return (cell is None) == (op == "is null")
    if cell is None:
        return False
    conv = (lambda v: dt.date.fromisoformat(v)) if isinstance(cell, dt.date) else (lambda v: v)
    if op in ("contains", "starts with", "ends with"):
        method = {"contains": str.__contains__, "starts with": str.startswith, "ends with": str.endswith}[op]
        return method(cell.lower(), value.lower())
    if op in ("in", "not in"):
        return (cell in [conv(v) for v in value]) == (op == "in")
    if op == "between":
        return conv(value[0]) <= cell <= conv(value[1])
    other = conv(value)
    return {"=": cell == other, "!=": cell != other, "<": cell < other, "<=": cell <= other,
            ">": cell > other, ">=": cell >= other}[op]  # fmt: skip


@pytest.mark.parametrize("seed", range(60))
def test_random_filters_count_what_python_counts(retail: Any, seed: int) -> None:
    rng = random.Random(seed)
    filters = [_random_filter(rng) for _ in range(rng.randint(1, 3))]
    plan: dict[str, Any] = {"table": "orders", "aggregates": [{"fn": "count", "as": "n"}]}
    if rng.random() < 0.3:
        plan["filters"] = [{"any": filters}]
        expected = sum(any(_holds(f, row) for f in filters) for row in ORDERS)
    else:
        plan["filters"] = filters
        expected = sum(all(_holds(f, row) for f in filters) for row in ORDERS)
    dataset, con = retail
    sql = compile_plan(parse_plan(plan), dataset)
    assert sqlglot.parse_one(sql, read="duckdb") is not None
    assert not re.search(r"--|/\*", sql.replace("'; DROP TABLE", ""))
    assert run(con, sql)["rows"] == [[expected]], sql


def test_group_by_a_column_that_is_not_selected_and_order_by_it(retail: Any) -> None:
    dataset, con = retail
    plan = {"table": "orders", "select": ["status"], "aggregates": [{"fn": "count", "as": "n"}],
            "group_by": ["status", "select"], "having": [{"column": "select", "op": "=", "value": "store"}],
            "order_by": [{"column": "n", "desc": True}, "select", "status"]}  # fmt: skip
    result = run(con, compile_plan(parse_plan(plan), dataset))
    # store orders: delivered 2, 5, 8, 10 / shipped 14, 16, 19
    assert result["rows"] == [["delivered", 4], ["shipped", 3]]


def test_distinct_orders_by_a_qualified_selected_column(retail: Any) -> None:
    plan = {
        "table": "orders",
        "joins": [{"table": "customers", "on": ["customer_id"]}],
        "select": ["region"],
        "distinct": True,
        "order_by": [{"column": "customers.region", "desc": True}],
    }
    assert _ids(retail, plan) == ["South", "North", "East"]
    dataset, _ = retail
    bad = {**plan, "order_by": ["amount"]}
    with pytest.raises(PlanError, match=r"cannot order by orders\.amount"):
        compile_plan(parse_plan(bad), dataset)


def test_filter_on_a_bucket_alias(retail: Any) -> None:
    plan = {
        "table": "orders",
        "select": [{"column": "order_date", "bucket": "year", "as": "year"}],
        "aggregates": [{"fn": "count", "as": "n"}],
        "filters": [{"column": "year", "op": ">=", "value": "2025-01-01"}],
    }
    dataset, con = retail
    assert run(con, compile_plan(parse_plan(plan), dataset))["rows"] == [["2025-01-01", 1]]


@pytest.mark.parametrize(
    ("value", "family", "expected"),
    [
        ("yes", "boolean", True),
        (0, "boolean", False),
        ("14:30", "time", dt.time(14, 30)),
        ("2024-02-29 10:15:00", "timestamp", dt.datetime(2024, 2, 29, 10, 15)),
        ("2024-02-29", "date", dt.date(2024, 2, 29)),
        ("1,250.5", "decimal", Decimal("1250.5")),
        ("1e3", "integer", 1000),
        (94110, "text", "94110"),
    ],
)
def test_values_are_typed_by_their_column(value: Any, family: Any, expected: Any) -> None:
    assert coerce(value, family, "filters[0]") == expected


@pytest.mark.parametrize(
    ("value", "family"),
    [
        (True, "integer"),
        ("maybe", "boolean"),
        ("25:00", "time"),
        (float("nan"), "float"),
        (True, "text"),
        (20240101, "date"),
    ],
)
def test_values_that_cannot_be_typed_are_plan_errors(value: Any, family: Any) -> None:
    with pytest.raises(PlanError, match=r"filters\[0\]: value"):
        coerce(value, family, "filters[0]")


def test_group_by_needs_something_to_return() -> None:
    with pytest.raises(PlanError, match="`group_by` needs"):
        parse_plan({"table": "orders", "group_by": ["status"]})


def test_share_aggregate_compiles_to_a_filtered_ratio() -> None:
    import duckdb

    from csvanalyst.catalog.schema import ColumnInfo, DatasetInfo, TableSchema, TableSource
    from csvanalyst.plan.compile import compile_plan
    from csvanalyst.plan.model import parse_plan

    info = DatasetInfo(
        name="d",
        tables=[
            TableSchema(
                name="t",
                columns=[ColumnInfo(name="k", type="VARCHAR"), ColumnInfo(name="v", type="BIGINT")],
                source=TableSource(path="t.parquet", format="parquet"),
            )
        ],
    )
    rows = parse_plan(
        {"table": "t", "aggregates": [{"fn": "share", "where": [{"column": "k", "op": "=", "value": "a"}]}]}
    )
    summed = parse_plan(
        {
            "table": "t",
            "aggregates": [{"fn": "share", "column": "v", "where": [{"column": "k", "op": "=", "value": "a"}]}],
        }
    )
    with duckdb.connect() as con:
        con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('a', 1), ('a', 2), ('b', 7), ('c', 10)) AS x(k, v)")
        assert con.execute(compile_plan(rows, info)).fetchall() == [(50.0,)]
        assert con.execute(compile_plan(summed, info)).fetchall() == [(15.0,)]


def test_share_needs_where_and_only_share_takes_it() -> None:
    from csvanalyst.errors import PlanError
    from csvanalyst.plan.model import parse_plan

    with pytest.raises(PlanError, match="share"):
        parse_plan({"table": "t", "aggregates": [{"fn": "share"}]})
    with pytest.raises(PlanError, match="share"):
        parse_plan(
            {
                "table": "t",
                "aggregates": [{"fn": "sum", "column": "v", "where": [{"column": "k", "op": "=", "value": 1}]}],
            }
        )
