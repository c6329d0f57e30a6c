"""Remembered policy approvals, so a repeat query skips importing sqlglot (the largest host cost of a run).

Only an approval is ever written, and only after the full check passed. The key covers everything the
verdict depends on: the exact SQL text, the dataset's name, fingerprint, tables and column types, the row
cap, and the policy itself (its source files and the sqlglot release). Any change of these is a miss, and
a miss always runs the full check. A refusal is never remembered: it is checked again every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Collection, Mapping
from functools import lru_cache
from pathlib import Path

from csvanalyst.plan.policy import CheckedSql, check_sql

MAX_ENTRIES = 4096  # past this, the older half is dropped on the next write
_PLAN_DIR = Path(__file__).resolve().parent


@lru_cache(maxsize=1)
def policy_version() -> str:
    """A digest of the policy's code and of the parser it relies on: an upgrade of either forgets all."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    sources = sorted((_PLAN_DIR / "policy").rglob("*.py"))
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        digest.update(version("sqlglot").encode())
    except PackageNotFoundError:  # a vendored sqlglot without metadata: never reuse a verdict
        digest.update(os.urandom(16))
    return digest.hexdigest()


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
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


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
    try:
        data = json.loads((cache_dir / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or data.get("verdict") != "approved":
        return None
    sql, tables, statement_type = data.get("sql"), data.get("tables"), data.get("statement_type")
    if not (isinstance(sql, str) and isinstance(statement_type, str) and isinstance(tables, list)):
        return None
    if not all(isinstance(t, str) for t in tables):
        return None
    return CheckedSql(sql=sql, tables=tuple(tables), statement_type=statement_type)


def _save(cache_dir: Path, key: str, checked: CheckedSql) -> None:
    """Write atomically (a reader sees a whole entry or none); a cache that cannot be written is skipped."""
    entry = {
        "key": key,
        "verdict": "approved",
        "sql": checked.sql,
        "tables": list(checked.tables),
        "statement_type": checked.statement_type,
    }
    try:
        cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _prune(cache_dir)
        fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".verdict-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(entry, out)
            os.replace(tmp, cache_dir / f"{key}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def _prune(cache_dir: Path) -> None:
    entries = list(cache_dir.glob("*.json"))
    if len(entries) < MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for path in entries[: len(entries) // 2]:
        path.unlink(missing_ok=True)
