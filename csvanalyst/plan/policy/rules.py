"""The rules of the SQL policy that look at single nodes: forbidden statements, functions and tables.

Everything here works on a parsed sqlglot tree. A prefix check on the text is not enough: DuckDB reads
files through table functions, string literals used as tables, qualified names and CTEs, so every node of
the tree is visited, wherever it is nested.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable

from sqlglot import exp

from csvanalyst.errors import PolicyError

# Statements that change state or reach outside the query; rejected wherever they appear in the tree.
_FORBIDDEN_NODE_NAMES = (
    "Insert",
    "Update",
    "Delete",
    "Create",
    "Drop",
    "Alter",
    "Merge",
    "TruncateTable",
    "Copy",
    "Command",
    "Pragma",
    "Set",
    "Use",
    "Attach",
    "Detach",
    "Install",
    "Load",
    "Transaction",
    "Commit",
    "Rollback",
    "Describe",
    "Show",
    "Summarize",
    "Into",
    "Export",
)
FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name) for name in _FORBIDDEN_NODE_NAMES if hasattr(exp, name)
)

# Matched on the lower-cased name, so anonymous functions sqlglot does not know are covered too.
DENIED_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "set_config",
        "getvariable",
        "system",
        "shell",
        "glob",
        "query",
        "query_table",
        "sniff_csv",
        "which_secret",
        "load_extension",
        "nextval",
        "currval",
        "setval",
        "lastval",
        "checkpoint",
        "force_checkpoint",
        "json_execute_serialized_sql",
        "sql_auto_complete",
        "dbgen",
        "dsdgen",
        "tpch",
        "tpcds",
        "tpch_answers",
        "tpcds_answers",
        "httpfs",
        "st_read",
        "st_readosm",
        "st_read_meta",
    }
)
DENIED_PREFIXES = (
    "read_",
    "duckdb_",
    "pragma_",
    "iceberg_",
    "delta_",
    "parquet_",
    "enable_",
    "disable_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "http_",
    "ducklake_",
    "load_",
    "arrow_",
)
DENIED_SUFFIXES = ("_scan", "_attach", "_query", "_secret", "_secrets", "_extension", "_extensions")

# The only functions that may stand where a table stands: they generate rows and read nothing.
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})

# Where a function call is a table function in DuckDB.
_TABLE_POSITIONS = (exp.Table, exp.From, exp.Join, exp.Lateral)


def locate(sql: str, node: exp.Expression | None) -> int | None:
    """Character offset of a node in the original SQL, from the first position sqlglot recorded."""
    if node is None:
        return None
    for candidate in node.walk():
        start = candidate.meta.get("start")
        if isinstance(start, int):
            return start
    return None


def line_col(sql: str, position: int) -> tuple[int, int]:
    """1-based line and column of a character offset, for messages people can find in their editor."""
    before = sql[:position]
    line = before.count("\n") + 1
    return line, position - (before.rfind("\n") + 1) + 1


def reject(
    rule: str,
    message: str,
    hint: str,
    sql: str,
    node: exp.Expression | None = None,
    *,
    position: int | None = None,
) -> PolicyError:
    """Build a PolicyError that says which rule was broken and where."""
    position = locate(sql, node) if position is None else position
    where = ""
    if position is not None:
        line, col = line_col(sql, position)
        where = f" (line {line}, column {col})"
    return PolicyError(f"Rejected by rule '{rule}'{where}: {message}", rule=rule, hint=hint, position=position)


def fragment(node: exp.Expression, limit: int = 80) -> str:
    """A short DuckDB rendering of the offending node for messages."""
    text = node.sql(dialect="duckdb")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def function_names(node: exp.Func, sql: str) -> set[str]:
    """Every name a function call may go by: as written, as sqlglot's canonical name, and its class key."""
    names = {node.key.lower()}
    if isinstance(node, exp.Anonymous):
        names.add(node.name.lower())
    else:
        names.update(name.lower() for name in node.sql_names())
    start, end = node.meta.get("start"), node.meta.get("end")
    if isinstance(start, int) and isinstance(end, int):
        names.add(sql[start : end + 1].strip('"').lower())
    return names


def is_denied(name: str) -> bool:
    return name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES) or name.endswith(DENIED_SUFFIXES)


def check_nodes(root: exp.Expression, sql: str, read_only_hint: str) -> None:
    """Reject forbidden statements, functions and parameters anywhere in the tree."""
    for node in root.walk():
        if isinstance(node, FORBIDDEN_NODES):
            raise reject(
                "not_read_only",
                f"'{fragment(node)}' is not allowed; only read-only queries may run.",
                read_only_hint,
                sql,
                node,
            )
        if isinstance(node, exp.Placeholder):
            raise reject(
                "syntax",
                f"query parameter '{fragment(node)}' cannot be bound here.",
                "Write the value into the query as a literal.",
                sql,
                node,
            )
        if isinstance(node, exp.Func):
            _check_function(node, sql)


def check_pivots(root: exp.Expression, sql: str) -> None:
    """Run after the table checks, so a PIVOT over a file is reported as file access first."""
    for node in root.walk():
        if _is_dynamic_pivot(node):
            column = next(e for e in node.expressions if not isinstance(e, exp.In))
            raise reject(
                "pivot_values",
                f"PIVOT ... ON {fragment(column)} must list the values that become columns.",
                f"Write ON {fragment(column)} IN ('value 1', 'value 2', ...), or use conditional aggregation "
                f"such as count(*) FILTER (WHERE {fragment(column)} = 'value 1').",
                sql,
                column,
            )


def _is_dynamic_pivot(node: exp.Expression) -> bool:
    """DuckDB's PIVOT without an IN list first runs a query to find its columns (several statements),
    which the sandbox rightly refuses; say so here, with the form that works."""
    if not isinstance(node, exp.Pivot) or node.args.get("unpivot") or node.this is None:
        return False
    return any(not isinstance(e, exp.In) for e in node.expressions)


def _check_function(node: exp.Func, sql: str) -> None:
    names = function_names(node, sql)
    if _in_table_position(node):
        if not _allowed_table_function(node, names):
            raise reject(
                "forbidden_table_function",
                f"table function '{fragment(node)}' is not allowed; it can read files or database state.",
                f"Read from the dataset's tables instead; only {_listing(ALLOWED_TABLE_FUNCTIONS)} "
                "may be used as a table function.",
                sql,
                node,
            )
        return
    denied = sorted(name for name in names if is_denied(name))
    if denied:
        raise reject(
            "forbidden_function",
            f"function '{denied[0]}' in '{fragment(node)}' is not allowed; it reaches files, settings, "
            "the environment or database state.",
            "Use only functions that compute over the dataset's columns.",
            sql,
            node,
        )


def _in_table_position(node: exp.Func) -> bool:
    parent = node.parent
    return isinstance(parent, _TABLE_POSITIONS) and node.arg_key == "this"


def _allowed_table_function(node: exp.Func, names: set[str]) -> bool:
    if isinstance(node.parent, exp.Table) and (node.parent.args.get("db") or node.parent.args.get("catalog")):
        return False
    if isinstance(node, exp.Unnest | exp.GenerateSeries):
        return True
    return isinstance(node, exp.Anonymous) and node.name.lower() in ALLOWED_TABLE_FUNCTIONS


def _listing(names: Iterable[str]) -> str:
    return ", ".join(sorted(names)) or "(none)"


def suggest(name: str, candidates: Collection[str]) -> list[str]:
    """Close matches, compared case-insensitively because DuckDB identifiers are; failing those, names made
    sharing all the words of the shorter one (`tip_value` for `tip`, `bill` or `bill_total` for `total_bill`)."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    matches = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if matches:
        return [by_lower[match] for match in matches]
    parts = _name_words(name)
    return [c for c in sorted(candidates) if parts and _name_words(c) and _shares_words(_name_words(c), parts)][:3]


def _shares_words(one: frozenset[str], other: frozenset[str]) -> bool:
    return one <= other or other <= one


def _name_words(name: str) -> frozenset[str]:
    """The words of a name, split on case changes, digits and punctuation."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return frozenset(re.findall(r"[a-z]+|[0-9]+", spaced.lower()))


def did_you_mean(name: str, candidates: Collection[str]) -> str:
    matches = suggest(name, candidates)
    return f" Did you mean {' or '.join(repr(m) for m in matches)}?" if matches else ""
