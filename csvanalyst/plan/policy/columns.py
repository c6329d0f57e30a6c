"""Unknown-column detection, tuned to never reject valid SQL.

A wrong rejection is worse than a late error, because DuckDB's binder inside the sandbox catches what we
let through anyway. So a column is rejected only when its name is defined nowhere: not in the referenced
tables, not as any alias, CTE column, lambda or comprehension variable. Queries with sources whose columns
we cannot know (table functions, VALUES, PIVOT, tables missing from the schema) are not checked at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlglot import exp

from csvanalyst.errors import PolicyError
from csvanalyst.plan.policy.rules import did_you_mean, fragment, reject

# Columns DuckDB provides without them being in the schema.
_VIRTUAL_COLUMNS = frozenset({"rowid"})
_OPAQUE_SOURCES = (exp.Values, exp.Unnest, exp.Lateral, exp.Pivot, exp.Columns)
_LISTED_COLUMNS = 20


@dataclass(frozen=True)
class _Names:
    """What a column reference may resolve to, by lower-cased name."""

    known: frozenset[str]  # every name a bare column may use
    aliases: dict[str, str]  # qualifier -> dataset table it certainly means
    reachable: dict[str, dict[str, str]]  # tables the query reads -> {lower: original column}
    everywhere: dict[str, dict[str, str]]  # every table in the schema, for "it lives elsewhere" hints


def check_columns(
    root: exp.Expression, sql: str, used: tuple[str, ...], schema: Mapping[str, Mapping[str, str]]
) -> None:
    """Raise PolicyError(rule="unknown_column") for a column that exists nowhere in the query's reach."""
    everywhere = {table.lower(): {c.lower(): c for c in columns} for table, columns in schema.items()}
    if any(table.lower() not in everywhere for table in used) or _has_opaque_source(root):
        return
    reachable = {table.lower(): everywhere[table.lower()] for table in used}
    known = _defined_names(root) | _VIRTUAL_COLUMNS
    for columns in reachable.values():
        known |= set(columns)
    names = _Names(frozenset(known), _table_aliases(root, reachable), reachable, everywhere)
    for column in root.find_all(exp.Column):
        _check_column(column, sql, names)


def _check_column(column: exp.Column, sql: str, names: _Names) -> None:
    if isinstance(column.this, exp.Star) or column.args.get("db") or column.args.get("catalog"):
        return  # `t.*`, or a struct path such as `t.s.field`
    name, qualifier = column.name.lower(), column.table.lower()
    if qualifier:
        table = names.aliases.get(qualifier)
        if table is not None and name not in names.reachable[table]:
            raise _unknown(column, sql, {table: names.reachable[table]}, names)
        return  # an alias we cannot pin down, or a struct field access
    if name not in names.known:
        raise _unknown(column, sql, names.reachable, names)
    if name in names.reachable and name not in names.reachable[name] and _aggregated(column):
        raise _table_as_column(column, sql, names.reachable[name])


def _aggregated(column: exp.Column) -> bool:
    parent = column.parent
    return isinstance(parent, exp.AggFunc) and parent.this is column


def _table_as_column(column: exp.Column, sql: str, columns: dict[str, str]) -> PolicyError:
    """`avg(tips)` aggregates the whole row of table tips; DuckDB answers with every avg() signature."""
    listed = ", ".join(sorted(columns.values())[:_LISTED_COLUMNS])
    func = column.parent.sql_name().lower() if isinstance(column.parent, exp.Func) else "the aggregate"
    return reject(
        "table_as_column",
        f"'{column.name}' is a table, not a column, in '{fragment(column.parent)}'.",
        f"Aggregate one of its columns, e.g. {func}({column.name}.<column>). Columns of {column.name}: {listed}.",
        sql,
        column,
    )


def _has_opaque_source(root: exp.Expression) -> bool:
    if any(True for _ in root.find_all(*_OPAQUE_SOURCES)):
        return True
    return any(not isinstance(table.this, exp.Identifier) for table in root.find_all(exp.Table))


def _defined_names(root: exp.Expression) -> set[str]:
    """Every name the query itself defines: aliases, CTE and table aliases with their columns, variables."""
    names: set[str] = set()
    for node in root.walk():
        if isinstance(node, exp.Alias | exp.TableAlias | exp.CTE):
            names.add(node.alias.lower() if not isinstance(node, exp.TableAlias) else node.name.lower())
        if isinstance(node, exp.TableAlias):
            names.update(column.name.lower() for column in node.columns)
        elif isinstance(node, exp.Lambda):
            names.update(param.name.lower() for param in node.expressions)
        elif isinstance(node, exp.Comprehension):
            names.add(node.expression.name.lower())
            position = node.args.get("position")
            if position is not None:
                names.add(position.name.lower())
        elif isinstance(node, exp.Table):
            names.add(node.name.lower())  # `SELECT t FROM t` selects the row as a struct
        elif isinstance(node, exp.Window) and isinstance(node.this, exp.Identifier):
            names.add(node.this.name.lower())
    names.discard("")
    return names


def _table_aliases(root: exp.Expression, reachable: dict[str, dict[str, str]]) -> dict[str, str]:
    """Qualifier -> dataset table, leaving out any qualifier that could also mean something else."""
    aliases: dict[str, str] = {}
    ambiguous: set[str] = {cte.alias_or_name.lower() for cte in root.find_all(exp.CTE)}
    for table in root.find_all(exp.Table):
        key, target = table.alias_or_name.lower(), table.name.lower()
        if target not in reachable or aliases.get(key, target) != target:
            ambiguous.add(key)
        else:
            aliases[key] = target
    for alias in root.find_all(exp.TableAlias):
        if not isinstance(alias.parent, exp.Table):
            ambiguous.add(alias.name.lower())
    return {key: value for key, value in aliases.items() if key not in ambiguous}


def _unknown(column: exp.Column, sql: str, tables: dict[str, dict[str, str]], names: _Names) -> PolicyError:
    candidates = sorted({original for columns in tables.values() for original in columns.values()})
    listed = ", ".join(candidates[:_LISTED_COLUMNS]) + (", ..." if len(candidates) > _LISTED_COLUMNS else "")
    return reject(
        "unknown_column",
        f"unknown column '{column.name}' in '{fragment(column)}'.{did_you_mean(column.name, candidates)}"
        + _elsewhere(column.name.lower(), names)
        + _quoted_literal(column),
        f"Columns of {', '.join(sorted(tables))}: {listed}.",
        sql,
        column,
    )


def _quoted_literal(column: exp.Column) -> str:
    """`"Japan"` is an identifier in SQL: a text value written in double quotes reads as a column."""
    ident = column.this
    if isinstance(ident, exp.Identifier) and ident.quoted and not column.table:
        value = column.name.replace("'", "''")
        return f" Double quotes name a column; a text value takes single quotes: '{value}'."
    return ""


def _elsewhere(name: str, names: _Names) -> str:
    """A column of a table the query does not read is a common slip; say where it lives."""
    homes = sorted(t for t, columns in names.everywhere.items() if name in columns and t not in names.reachable)
    return f" A column of that name exists in {', '.join(homes)}, which the query does not read." if homes else ""
