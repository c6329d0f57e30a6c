"""Table references: only the dataset's tables and the query's own CTEs may be read.

Table names are resolved case-insensitively (DuckDB identifiers are) and rewritten in place to the
canonical name, with the dataset qualifier dropped (`sales.orders` -> `orders`). CTE names are scoped the
way DuckDB scopes them, so a CTE may be named like anything, but its body is checked like any query.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from sqlglot import exp

from csvanalyst.plan.policy.rules import did_you_mean, fragment, reject


@dataclass
class TableScope:
    """What a table reference may resolve to, plus the canonical tables seen so far."""

    sql: str
    tables: dict[str, str]  # lower-cased name -> canonical name
    dataset: str | None
    used: list[str] = field(default_factory=list)

    def hint(self) -> str:
        names = ", ".join(sorted(self.tables.values())) or "(none)"
        return f"Only SELECT queries over the tables {names} are allowed."


def resolve_tables(root: exp.Expression, sql: str, tables: Collection[str], dataset: str | None) -> tuple[str, ...]:
    """Check every table reference, rewrite it to its canonical name, and return the tables used."""
    scope = TableScope(sql=sql, tables={name.lower(): name for name in tables}, dataset=dataset)
    _visit(root, frozenset(), scope)
    return tuple(dict.fromkeys(scope.used))


def _with_of(node: exp.Expression) -> exp.With | None:
    found = node.args.get("with_") or node.args.get("with")
    return found if isinstance(found, exp.With) else None


def _visit(root: exp.Expression, ctes: frozenset[str], scope: TableScope) -> None:
    """Walk the tree with the CTE names visible at each node (iteratively: long UNION chains are deep)."""
    stack: list[tuple[exp.Expression, frozenset[str]]] = [(root, ctes)]
    while stack:
        node, visible = stack.pop()
        with_clause = _with_of(node)
        if with_clause is not None:
            stack.extend(_cte_bodies(with_clause, visible))
            visible = visible | {cte.alias_or_name.lower() for cte in _ctes(with_clause)}
        if isinstance(node, exp.Table):
            _check_table(node, visible, scope)
        stack.extend((child, visible) for child in node.iter_expressions() if child is not with_clause)


def _ctes(with_clause: exp.With) -> list[exp.CTE]:
    return [cte for cte in with_clause.expressions if isinstance(cte, exp.CTE)]


def _cte_bodies(with_clause: exp.With, outer: frozenset[str]) -> list[tuple[exp.Expression, frozenset[str]]]:
    """Each CTE body sees the CTEs before it, or all of them when the WITH is recursive."""
    ctes = _ctes(with_clause)
    names = [cte.alias_or_name.lower() for cte in ctes]
    recursive = bool(with_clause.args.get("recursive"))
    return [(cte.this, outer | frozenset(names if recursive else names[:i])) for i, cte in enumerate(ctes)]


def _check_table(table: exp.Table, ctes: frozenset[str], scope: TableScope) -> None:
    if isinstance(table.this, exp.Func):
        return  # table functions are judged by the function rules
    if not isinstance(table.this, exp.Identifier):
        raise reject(
            "unknown_table",
            f"'{fragment(table)}' is not a table of the dataset.",
            scope.hint(),
            scope.sql,
            table,
        )
    if _is_string_literal(table.this, scope.sql):
        raise reject(
            "file_access",
            f"the string '{table.name}' is used as a table, which makes DuckDB read a file or URL.",
            scope.hint(),
            scope.sql,
            table,
        )
    qualified = _strip_dataset_qualifier(table, scope)
    name = table.name
    if not qualified and name.lower() in ctes:
        return
    canonical = scope.tables.get(name.lower())
    if canonical is None:
        _unknown_table(table, name, scope)
    table.set("this", exp.to_identifier(canonical, quoted=True))
    scope.used.append(canonical)


def _is_string_literal(identifier: exp.Identifier, sql: str) -> bool:
    """sqlglot turns `FROM 'x.csv'` into a quoted identifier; the source text tells them apart."""
    start = identifier.meta.get("start")
    return isinstance(start, int) and sql[start : start + 1] == "'"


def _strip_dataset_qualifier(table: exp.Table, scope: TableScope) -> bool:
    """Drop a `dataset.` qualifier; any other schema or catalog is a way out of the dataset."""
    db, catalog = table.args.get("db"), table.args.get("catalog")
    if db is None and catalog is None:
        return False
    allowed = scope.dataset is not None and catalog is None and table.db.lower() == scope.dataset.lower()
    if not allowed:
        qualifier = ".".join(part for part in (table.catalog, table.db) if part)
        example = scope.tables.get(table.name.lower()) or min(scope.tables.values(), default=table.name)
        only = f"only the dataset name '{scope.dataset}'" if scope.dataset else "no qualifier"
        raise reject(
            "forbidden_qualifier",
            f"the qualifier '{qualifier}' in '{fragment(table)}' is not allowed; {only} may qualify a table.",
            f"Write the table name alone, e.g. {example}. {scope.hint()}",
            scope.sql,
            table,
        )
    table.set("db", None)
    return True


def _unknown_table(table: exp.Table, name: str, scope: TableScope) -> None:
    available = ", ".join(sorted(scope.tables.values())) or "(none)"
    raise reject(
        "unknown_table",
        f"unknown table '{name}'.{did_you_mean(name, scope.tables.values())} Available tables: {available}.",
        scope.hint(),
        scope.sql,
        table,
    )


def strip_dataset_from_columns(root: exp.Expression, dataset: str | None) -> None:
    """`sales.orders.amount` must follow its table: once the table is unqualified, so is the column."""
    if dataset is None:
        return
    for column in root.find_all(exp.Column):
        db = column.args.get("db")
        if db is not None and column.args.get("catalog") is None and column.db.lower() == dataset.lower():
            column.set("db", None)
