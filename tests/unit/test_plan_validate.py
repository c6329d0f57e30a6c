"""Every way a plan can miss the schema gives a PlanError naming the clause and the nearest names."""

from __future__ import annotations

from typing import Any

import pytest

from csvanalyst.catalog.schema import DatasetInfo
from csvanalyst.errors import PlanError
from csvanalyst.plan.compile import compile_plan
from csvanalyst.plan.model import parse_plan
from csvanalyst.plan.validate import validate_plan
from tests.fixtures.plans.retail import retail_dataset

DATASET = retail_dataset()
JOIN_CUSTOMERS = [{"table": "customers", "on": ["customer_id"]}]


def _error(plan: dict[str, Any], dataset: DatasetInfo = DATASET) -> PlanError:
    with pytest.raises(PlanError) as info:
        validate_plan(parse_plan(plan), dataset)
    assert info.value.hint, "every plan error carries a hint"
    return info.value


CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    ("unknown table", {"table": "order"}, ["unknown table 'order'", "Did you mean 'orders'"]),
    (
        "unknown column",
        {"table": "orders", "select": ["amout"]},
        ["select[0]", "unknown column 'amout'", "looked in orders", "'amount'"],
    ),
    (
        "unknown qualified column",
        {"table": "orders", "joins": JOIN_CUSTOMERS, "select": ["customers.regoin"]},
        ["unknown column 'customers.regoin'", "'customers.region'"],
    ),
    (
        "column of a table not joined",
        {"table": "orders", "select": ["customers.region"]},
        ["belongs to table 'customers'", "does not join"],
    ),
    (
        "ambiguous bare column",
        {"table": "orders", "joins": JOIN_CUSTOMERS, "select": ["customer_id"]},
        ["ambiguous", "orders, customers", "orders.customer_id or customers.customer_id"],
    ),
    (
        "sum on text",
        {"table": "orders", "aggregates": [{"fn": "sum", "column": "status"}]},
        ["aggregates[0]", "sum needs a numeric column", "orders.status is text", "amount"],
    ),
    (
        "percentile on a date",
        {"table": "orders", "aggregates": [{"fn": "percentile", "column": "order_date", "p": 0.5}]},
        ["percentile needs a numeric column", "date"],
    ),
    (
        "bucket on a number",
        {"table": "orders", "select": [{"column": "amount", "bucket": "month"}]},
        ["cannot bucket orders.amount by month", "order_date"],
    ),
    (
        "contains on a number",
        {"table": "orders", "filters": [{"column": "amount", "op": "contains", "value": "1"}]},
        ["filters[0]", "`contains` needs a text column", "'amount' is float"],
    ),
    (
        "join outside the dataset",
        {"table": "orders", "joins": [{"table": "customer", "on": ["customer_id"]}]},
        ["joins[0]", "unknown table 'customer'", "'customers'"],
    ),
    (
        "join on a missing column",
        {"table": "orders", "joins": [{"table": "products", "on": [["orders.product", "products.product_id"]]}]},
        ["joins[0].on[0]", "unknown column 'orders.product'", "'orders.product_id'"],
    ),
    (
        "join on incompatible types",
        {"table": "orders", "joins": [{"table": "customers", "on": [["orders.status", "customers.customer_id"]]}]},
        ["cannot join orders.status (text) to customers.customer_id (integer)"],
    ),
    (
        "table joined twice",
        {"table": "orders", "joins": [{"table": "orders", "on": ["order_id"]}]},
        ["already in the plan"],
    ),
    (
        "having on an unknown alias",
        {
            "table": "orders",
            "select": ["status"],
            "aggregates": [{"fn": "sum", "column": "amount", "as": "revenue"}],
            "having": [{"column": "revenu", "op": ">", "value": 1}],
        },
        ["having[0]", "'revenu' is not an aggregate or a group column", "'revenue'"],
    ),
    (
        "having on an ungrouped column",
        {
            "table": "orders",
            "select": ["status"],
            "aggregates": [{"fn": "count"}],
            "having": [{"column": "amount", "op": ">", "value": 1}],
        },
        ["'amount' is not an aggregate or a group column"],
    ),
    (
        "order by an unknown name",
        {"table": "orders", "select": ["status"], "order_by": ["stauts"]},
        ["order_by[0]", "'stauts'", "'status'"],
    ),
    (
        "order by an ungrouped column",
        {"table": "orders", "select": ["status"], "aggregates": [{"fn": "count"}], "order_by": ["amount"]},
        ["cannot order by orders.amount", "status, count"],
    ),
    (
        "filter on an aggregate",
        {
            "table": "orders",
            "select": ["status"],
            "aggregates": [{"fn": "count", "as": "n"}],
            "filters": [{"column": "n", "op": ">", "value": 2}],
        },
        ["'n' is an aggregate", "having"],
    ),
    (
        "select not in group_by",
        {"table": "orders", "select": ["status", "select"], "aggregates": [{"fn": "count"}], "group_by": ["status"]},
        ["'select' is neither aggregated nor listed in group_by"],
    ),
    (
        "group by an aggregate",
        {"table": "orders", "aggregates": [{"fn": "count", "as": "n"}], "group_by": ["n"]},
        ["cannot group by the aggregate 'n'"],
    ),
    (
        "duplicate output names",
        {"table": "orders", "joins": JOIN_CUSTOMERS, "select": ["orders.customer_id", "customers.customer_id"]},
        ["both named 'customer_id'", "as"],
    ),
    (
        "bad date value",
        {"table": "orders", "filters": [{"column": "order_date", "op": ">", "value": "2024-13-01"}]},
        ["filters[0]", "'2024-13-01' is not an ISO date"],
    ),
    (
        "text value against a number",
        {"table": "orders", "filters": [{"column": "amount", "op": "=", "value": "lots"}]},
        ["'lots' is not a number"],
    ),
    (
        "arithmetic on text",
        {"table": "orders", "select": [{"expr": {"op": "*", "left": "status", "right": 2}, "as": "x"}]},
        ["arithmetic needs numbers", "orders.status is text"],
    ),
]


@pytest.mark.parametrize(("plan", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_schema_errors_name_the_problem_and_the_fix(plan: dict[str, Any], fragments: list[str]) -> None:
    error = _error(plan)
    text = f"{error.message} {error.hint}"
    for fragment in fragments:
        assert fragment in text


SHAPE_CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "between with one value",
        {"table": "t", "filters": [{"column": "a", "op": "between", "value": [1]}]},
        ["filters[0]", "exactly two values"],
    ),
    (
        "in with an empty list",
        {"table": "t", "filters": [{"column": "a", "op": "in", "value": []}]},
        ["filters[0]", "non-empty list"],
    ),
    (
        "percentile p out of range",
        {"table": "t", "aggregates": [{"fn": "percentile", "column": "a", "p": 90}]},
        ["aggregates[0]", "strictly between 0 and 1", "90"],
    ),
    ("percentile without p", {"table": "t", "aggregates": [{"fn": "percentile", "column": "a"}]}, ["needs `p`"]),
    ("p on a non-percentile", {"table": "t", "aggregates": [{"fn": "sum", "column": "a", "p": 0.5}]}, ["only applies"]),
    ("sum without a column", {"table": "t", "aggregates": [{"fn": "sum"}]}, ["needs a `column`"]),
    ("unknown key", {"table": "t", "colums": ["a"]}, ["colums", "Extra inputs are not permitted"]),
    ("unknown operator", {"table": "t", "filters": [{"column": "a", "op": "approx", "value": 1}]}, ["filters[0].op"]),
    (
        "is null with a value",
        {"table": "t", "filters": [{"column": "a", "op": "is null", "value": 1}]},
        ["takes no value"],
    ),
    ("a list for =", {"table": "t", "filters": [{"column": "a", "op": "=", "value": [1, 2]}]}, ["use `in`"]),
    (
        "select with column and expr",
        {"table": "t", "select": [{"column": "a", "expr": {"op": "+", "left": "a", "right": 1}, "as": "b"}]},
        ["exactly one of `column` or `expr`"],
    ),
    (
        "expr without a name",
        {"table": "t", "select": [{"expr": {"op": "+", "left": "a", "right": 1}}]},
        ["needs a name in `as`"],
    ),
    ("bad bucket", {"table": "t", "select": [{"column": "a", "bucket": "fortnight"}]}, ["select[0].bucket"]),
    (
        "having without aggregates",
        {"table": "t", "having": [{"column": "a", "op": ">", "value": 1}]},
        ["`having` needs"],
    ),
    ("zero limit", {"table": "t", "limit": 0}, ["limit"]),
    ("bad join type", {"table": "t", "joins": [{"table": "u", "on": ["a"], "type": "cross"}]}, ["joins[0].type"]),
]


@pytest.mark.parametrize(("plan", "fragments"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_shape_errors_become_plan_errors(plan: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(PlanError) as info:
        parse_plan(plan)
    for fragment in fragments:
        assert fragment in info.value.message


def test_invalid_json_is_a_plan_error() -> None:
    with pytest.raises(PlanError, match="not valid JSON"):
        parse_plan('{"table": ')
    with pytest.raises(PlanError, match="must be a JSON object"):
        parse_plan("[1, 2]")


def test_a_unique_case_insensitive_name_is_resolved() -> None:
    sql = compile_plan(
        parse_plan(
            {"table": "Orders", "select": ["AMOUNT"], "filters": [{"column": "Status", "op": "=", "value": "shipped"}]}
        ),
        DATASET,
    )
    assert sql == 'SELECT "amount" FROM "orders" WHERE "status" = \'shipped\''


def test_qualified_names_resolve_in_a_single_table_plan() -> None:
    sql = compile_plan(parse_plan({"table": "orders", "select": ["orders.amount"]}), DATASET)
    assert sql == 'SELECT "amount" FROM "orders"'


def test_count_min_max_accept_text() -> None:
    plan = {
        "table": "orders",
        "aggregates": [
            {"fn": "count_distinct", "column": "status"},
            {"fn": "min", "column": "status"},
            {"fn": "max", "column": "note"},
        ],
    }
    validate_plan(parse_plan(plan), DATASET)


def test_synonyms_are_normalised() -> None:
    plan = parse_plan(
        {
            "table": "orders",
            "aggregates": [{"fn": "Mean", "column": "amount"}],
            "filters": [
                {"column": "status", "op": "NOT_IN", "value": ["x"]},
                {"column": "amount", "op": "==", "value": 1},
            ],
        }
    )
    assert plan.aggregates[0].fn == "avg"
    assert [f.op for f in plan.filters] == ["not in", "="]  # type: ignore[union-attr]
