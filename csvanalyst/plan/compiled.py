"""Remembered plan compilations, so a repeat question does not import sqlglot to build its SQL.

The SQL a plan compiles to depends on the plan's text, the dataset (name, fingerprint, tables and column
types) and the compiler (the plan package's code and the sqlglot release); the key covers all of them,
and any change is a miss that compiles again. Only a successful compilation is remembered. The SQL read
back is never trusted for that: it goes through the policy check like any other SQL.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from csvanalyst import memo
from csvanalyst.catalog.schema import DatasetInfo

_PLAN_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def compiler_version() -> str:
    return memo.source_digest(_PLAN_DIR.glob("*.py"), library="sqlglot")


def compile_plan_cached(text: str, dataset: DatasetInfo, cache_dir: Path) -> str:
    """`compile_plan(parse_plan(text), dataset)`, answered from memory when the same plan already
    compiled on the same data with the same compiler. Data we cannot identify is compiled every time."""
    if not dataset.fingerprint:
        return _compile(text, dataset)
    facts = {"compiler": compiler_version(), "plan": text, "dataset": dataset.name,
             "fingerprint": dataset.fingerprint, "schema": dataset.column_types}  # fmt: skip
    key = memo.key_of(facts)
    remembered = memo.read(cache_dir, key)
    if remembered is not None and isinstance(remembered.get("sql"), str):
        return str(remembered["sql"])
    sql = _compile(text, dataset)
    memo.write(cache_dir, key, {"sql": sql})
    return sql


def _compile(text: str, dataset: DatasetInfo) -> str:
    from csvanalyst.plan.compile import compile_plan
    from csvanalyst.plan.model import parse_plan

    return compile_plan(parse_plan(text), dataset)
