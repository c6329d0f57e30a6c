"""The SQL policy: the gate every query passes before it reaches the sandbox.

`check_sql` parses with sqlglot (DuckDB dialect) and accepts exactly one read-only statement over the
dataset's tables, with no file, network, extension, settings or environment access in any form. It
returns DuckDB SQL regenerated from the checked tree, with table names normalised and a row cap applied.

Row-cap contract: the caller passes `row_cap`, the SQL returned yields at most `row_cap + 1` rows. The
extra row lets the runner tell "exactly row_cap rows" from "truncated" without a second query.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from csvanalyst.errors import PolicyError

if TYPE_CHECKING:
    from sqlglot import exp

# Statement keywords sqlglot may not parse at all; they deserve "not read-only" rather than "syntax".
_WRITE_KEYWORDS = frozenset(
    {
        "ALTER", "ATTACH", "CALL", "CHECKPOINT", "COMMENT", "COPY", "CREATE", "DEALLOCATE", "DELETE",
        "DETACH", "DROP", "EXECUTE", "EXPORT", "FORCE", "GRANT", "IMPORT", "INSERT", "INSTALL", "LOAD",
        "MERGE", "PRAGMA", "PREPARE", "RESET", "REVOKE", "SET", "TRUNCATE", "UPDATE", "USE", "VACUUM",
        "BEGIN", "COMMIT", "ROLLBACK", "ABORT", "START", "END", "DESCRIBE", "SHOW", "SUMMARIZE", "ANALYZE",
    }
)  # fmt: skip
_LEADING_WORD = re.compile(r"\s*(?:(?:--[^\n]*(?:\n|$)|/\*.*?\*/)\s*)*\(*\s*([A-Za-z_]+)", re.DOTALL)
_STATEMENT_TYPES = {"select": "select", "union": "union", "intersect": "intersect", "except": "except"}
_CAP_ALIAS = "_capped"


@dataclass(frozen=True)
class CheckedSql:
    sql: str  # DuckDB SQL with the cap applied and table names normalised
    tables: tuple[str, ...]  # canonical dataset tables referenced
    statement_type: str  # "select" | "union" | "intersect" | "except" | "values" | "pivot" | "unpivot"


def check_sql(
    sql: str,
    *,
    tables: Collection[str],
    dataset: str | None = None,
    row_cap: int = 10_000,
    schema: Mapping[str, Mapping[str, str]] | None = None,
) -> CheckedSql:
    """Accept one read-only DuckDB query over `tables`, or raise PolicyError naming the broken rule.

    `dataset` is the only qualifier allowed on a table name. With `schema` (table -> {column: type}),
    columns that exist nowhere in the query's tables are rejected too; undecidable cases pass through.
    """
    if row_cap < 0:
        raise ValueError(f"row_cap must be >= 0, got {row_cap}")
    try:
        return _check(sql, tables, dataset, row_cap, schema)
    except RecursionError as exc:
        # sqlglot's parser and generator recurse per nesting level; past Python's limit we cannot judge.
        raise PolicyError(
            "Rejected by rule 'syntax': the query is nested too deeply to check.",
            rule="syntax",
            hint="Simplify the query: fewer nested parentheses or subqueries.",
        ) from exc


def _check(
    sql: str,
    tables: Collection[str],
    dataset: str | None,
    row_cap: int,
    schema: Mapping[str, Mapping[str, str]] | None,
) -> CheckedSql:
    from csvanalyst.plan.policy import columns as policy_columns
    from csvanalyst.plan.policy import rules as policy_rules
    from csvanalyst.plan.policy import tables as policy_tables

    hint = _read_only_hint(tables)
    root = _parse_one(sql, hint)
    statement_type = _statement_type(root, sql, hint)
    policy_rules.check_nodes(root, sql, hint)
    used = policy_tables.resolve_tables(root, sql, tables, dataset)
    policy_rules.check_pivots(root, sql)
    policy_tables.strip_dataset_from_columns(root, dataset)
    if schema is not None:
        policy_columns.check_columns(root, sql, used, schema)
    capped = apply_row_cap(root, row_cap + 1)
    return CheckedSql(sql=capped.sql(dialect="duckdb", comments=False), tables=used, statement_type=statement_type)


def _read_only_hint(tables: Collection[str]) -> str:
    names = ", ".join(sorted(tables)) or "(none)"
    return f"Only SELECT queries over the tables {names} are allowed."


def _parse_one(sql: str, hint: str) -> exp.Expression:
    """Parse exactly one statement; empty input, several statements and syntax errors are rejected."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError

    _quiet_command_fallback()
    if not sql.strip():
        raise PolicyError("Rejected by rule 'empty': the query is empty.", rule="empty", hint=hint)
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except ParseError as exc:
        raise _parse_failure(sql, exc, hint) from exc
    except TokenError as exc:
        raise PolicyError(
            f"Rejected by rule 'syntax': the query could not be read ({exc}).",
            rule="syntax",
            hint="Check for an unterminated string or quoted identifier.",
        ) from exc
    # A trailing comment after the last ';' comes back as a bare Semicolon node, not a statement.
    statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
    if not statements:
        raise PolicyError(
            "Rejected by rule 'empty': the query contains no statement, only comments or ';'.", rule="empty", hint=hint
        )
    if len(statements) > 1:
        raise _multiple_statements(len(statements), hint)
    return statements[0]


def _multiple_statements(count: int, hint: str) -> PolicyError:
    return PolicyError(
        f"Rejected by rule 'multiple_statements': found {count} statements separated by ';'; exactly one is allowed.",
        rule="multiple_statements",
        hint="Send a single SELECT query. " + hint,
    )


def _parse_failure(sql: str, exc: Exception, hint: str) -> PolicyError:
    """Explain a parse error: a forbidden statement, several statements, or a syntax error with a caret."""
    statements = _count_statements(sql)
    if statements > 1:
        return _multiple_statements(statements, hint)
    keyword = _leading_keyword(sql)
    if keyword in _WRITE_KEYWORDS:
        return PolicyError(
            f"Rejected by rule 'not_read_only': '{keyword}' statements are not allowed; "
            "only read-only queries may run.",
            rule="not_read_only",
            hint=hint,
            position=0,
        )
    return _syntax_error(sql, exc)


def _syntax_error(sql: str, exc: Exception) -> PolicyError:
    errors = getattr(exc, "errors", None) or [{}]
    first = errors[0]
    line, col = first.get("line"), first.get("col")
    description = first.get("description") or str(exc).split("\n")[0]
    if not isinstance(line, int) or not isinstance(col, int):
        return PolicyError(f"Rejected by rule 'syntax': {description}.", rule="syntax", hint="Fix the SQL.")
    highlight = str(first.get("highlight") or "")
    source_line = sql.split("\n")[line - 1] if line - 1 < len(sql.split("\n")) else ""
    start_col = max(col - len(highlight), 0)
    caret = " " * start_col + "^" * max(len(highlight), 1)
    position = sum(len(part) + 1 for part in sql.split("\n")[: line - 1]) + start_col
    return PolicyError(
        f"Rejected by rule 'syntax' (line {line}, column {start_col + 1}): {description}.\n  {source_line}\n  {caret}",
        rule="syntax",
        hint="Fix the SQL near the marked position; the dialect is DuckDB.",
        position=position,
    )


def _count_statements(sql: str) -> int:
    """Statements by semicolons at token level, so ';' inside strings or comments does not count."""
    from sqlglot.dialects.duckdb import DuckDB
    from sqlglot.errors import TokenError
    from sqlglot.tokens import TokenType

    try:
        tokens = DuckDB().tokenize(sql)
    except TokenError:
        return 1
    count, pending = 0, False
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            count, pending = count + pending, False
        else:
            pending = True
    return count + pending


def _leading_keyword(sql: str) -> str:
    match = _LEADING_WORD.match(sql)
    return match.group(1).upper() if match else ""


def _statement_type(root: exp.Expression, sql: str, hint: str) -> str:
    """Only queries may be the statement; anything else (DDL, DML, commands) is not read-only."""
    from sqlglot import exp

    from csvanalyst.plan.policy.rules import fragment, reject

    node = root
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.Values):
        return "values"
    if isinstance(node, exp.Pivot):
        return "unpivot" if node.args.get("unpivot") else "pivot"
    if isinstance(node, exp.Select | exp.SetOperation) and node.key in _STATEMENT_TYPES:
        return _STATEMENT_TYPES[node.key]
    what = "could not be parsed as a query" if isinstance(node, exp.Command) else "is not a read-only query"
    start = len(sql) - len(sql.lstrip())
    raise reject("not_read_only", f"'{fragment(root)}' {what}.", hint, sql, position=start)


def apply_row_cap(root: exp.Expression, limit: int) -> exp.Expression:
    """Make the query return at most `limit` rows, keeping any smaller LIMIT and the ORDER BY intact."""
    from sqlglot import exp

    if isinstance(root, exp.Values):
        return root if len(root.expressions) <= limit else _wrap(root, limit)
    if not isinstance(root, exp.Select | exp.SetOperation):
        return _wrap(root, limit)
    current = root.args.get("limit")
    if current is None:
        root.set("limit", exp.Limit(expression=exp.Literal.number(limit)))
        return root
    value = _literal_limit(current)
    if value is None:
        return _wrap(root, limit)
    if value > limit:
        current.set("count" if isinstance(current, exp.Fetch) else "expression", exp.Literal.number(limit))
    return root


def _literal_limit(node: exp.Expression) -> int | None:
    """The row count of a plain `LIMIT n` / `FETCH FIRST n ROWS`; None when it is anything fancier."""
    from sqlglot import exp

    options = node.args.get("limit_options")
    if options is not None and (options.args.get("percent") or options.args.get("with_ties")):
        return None
    count = node.args.get("count") if isinstance(node, exp.Fetch) else node.args.get("expression")
    if isinstance(count, exp.Literal) and not count.is_string and count.this.isdigit():
        return int(count.this)
    return None


def _wrap(root: exp.Expression, limit: int) -> exp.Expression:
    from sqlglot import exp

    return (
        exp.select("*")
        .from_(exp.Subquery(this=root, alias=exp.TableAlias(this=exp.to_identifier(_CAP_ALIAS))))
        .limit(limit)
    )


class _CommandFallbackFilter(logging.Filter):
    """sqlglot warns on stderr when it falls back to a Command; the policy reports that itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Falling back to parsing as a 'Command'" not in record.getMessage()


_FILTER = _CommandFallbackFilter()


def _quiet_command_fallback() -> None:
    logger = logging.getLogger("sqlglot")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
