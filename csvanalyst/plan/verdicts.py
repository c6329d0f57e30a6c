"""Remembered policy approvals, so a repeat query skips importing sqlglot (the largest host cost of a run).

Only an approval is ever written, and only after the full check passed. The key covers everything the
verdict depends on: the exact SQL text, the dataset's name, fingerprint, tables and column types, the row
cap, and the policy itself (its source files and the sqlglot release). Any change of these is a miss, and
a miss always runs the full check. A refusal is never remembered: it is checked again every time.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path

from csvanalyst import memo
from csvanalyst.plan.policy import CheckedSql, check_sql

_PLAN_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def policy_version() -> str:
    """A digest of the policy's code and of the parser it relies on: an upgrade of either forgets all."""
    return memo.source_digest((_PLAN_DIR / "policy").rglob("*.py"), library="sqlglot")


def verdict_key(
    sql: str,
    *,
    tables: Collection[str],
    dataset: str | None,
    fingerprint: str,
    row_cap: int,
    schema: Mapping[str, Mapping[str, str]] | None,
) -> str:
    facts = {
        "policy": policy_version(),
        "sql": sql,
        "tables": sorted(tables),
        "dataset": dataset,
        "fingerprint": fingerprint,
        "row_cap": row_cap,
        "schema": None if schema is None else {t: dict(cols) for t, cols in sorted(schema.items())},
    }
    return memo.key_of(facts)


def check_sql_cached(
    sql: str,
    *,
    tables: Collection[str],
    dataset: str | None,
    fingerprint: str,
    row_cap: int,
    schema: Mapping[str, Mapping[str, str]] | None,
    cache_dir: Path,
) -> CheckedSql:
    """`check_sql`, answered from a remembered approval when the very same check already passed."""
    if not fingerprint:  # data we cannot identify: no verdict to reuse
        return check_sql(sql, tables=tables, dataset=dataset, row_cap=row_cap, schema=schema)
    key = verdict_key(sql, tables=tables, dataset=dataset, fingerprint=fingerprint, row_cap=row_cap, schema=schema)
    remembered = _load(cache_dir, key)
    if remembered is not None:
        return remembered
    checked = check_sql(sql, tables=tables, dataset=dataset, row_cap=row_cap, schema=schema)
    _save(cache_dir, key, checked)  # reached only when the check passed
    return checked


def _load(cache_dir: Path, key: str) -> CheckedSql | None:
    """The approval stored under `key`, or None for a miss or anything unreadable or inconsistent."""
    data = memo.read(cache_dir, key)
    if data is None or data.get("verdict") != "approved":
        return None
    sql, tables, statement_type = data.get("sql"), data.get("tables"), data.get("statement_type")
    if not (isinstance(sql, str) and isinstance(statement_type, str) and isinstance(tables, list)):
        return None
    if not all(isinstance(t, str) for t in tables):
        return None
    return CheckedSql(sql=sql, tables=tuple(tables), statement_type=statement_type)


def _save(cache_dir: Path, key: str, checked: CheckedSql) -> None:
    entry = {
        "verdict": "approved",
        "sql": checked.sql,
        "tables": list(checked.tables),
        "statement_type": checked.statement_type,
    }
    memo.write(cache_dir, key, entry)
