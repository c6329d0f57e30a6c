"""Numbers written for people: currency amounts ("$1,234.50", "€ 12", "(1,200)") and percentages ("12.5%").

A column is read as numbers only when every sampled value has that form; the full read then checks
every value of the file against the same pattern before converting, so a column with one value of
another form stays text (and says so) instead of losing that value. A percentage keeps the number
shown: "12.5%" is 12.5.

Day-first and month-first dates are told apart by DuckDB's sniffer from the values; when no sampled
value proves the order, the order chosen is said.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from csvanalyst.catalog.csvsql import literal, quote_ident

if TYPE_CHECKING:
    from csvanalyst.catalog.sniff import CsvSpec

Kind = Literal["money", "percent"]
Conversion = tuple[Kind, str]  # the form, and its decimal separator
_SYMBOLS = "$€£¥₹"


def _patterns(decimal: str) -> dict[Kind, str]:
    """Whole-value regular expressions (Python and DuckDB's RE2 both read them) for `decimal` "." or ","."""
    group = "." if decimal == "," else ","
    number = rf"\d{{1,3}}(?:\{group}\d{{3}})+(?:\{decimal}\d+)?|\d+(?:\{decimal}\d+)?"
    symbol = f"[{_SYMBOLS}]"
    signed = rf"[-+]?\s*{symbol}?\s*[-+]?\s*(?:{number})\s*{symbol}?"
    return {"money": rf"^\s*(?:{signed}|\(\s*{signed}\s*\))\s*$", "percent": rf"^\s*[-+]?(?:{number})\s*%\s*$"}


def _marked(value: str, kind: Kind, decimal: str) -> bool:
    """A value that plain number parsing would not read: a symbol, a group separator or parentheses."""
    if kind == "percent":
        return True
    group = "." if decimal == "," else ","
    return any(s in value for s in _SYMBOLS) or "(" in value or group in value


def detect(
    columns: list[str], types: list[str], rows: list[list[str]], decimals: tuple[str, ...]
) -> dict[str, Conversion]:
    """Text columns of `rows` (data rows of the sample) whose every value is a money amount or a percentage,
    with the first of `decimals` that reads them all."""
    found: dict[str, Conversion] = {}
    for index, (name, kind_of) in enumerate(zip(columns, types, strict=True)):
        values = [r[index] for r in rows if index < len(r) and r[index].strip()]
        if kind_of == "VARCHAR" and len(values) >= 2:
            form = _form(values, decimals)
            if form:
                found[name] = form
    return found


def _form(values: list[str], decimals: tuple[str, ...]) -> Conversion | None:
    for decimal in decimals:
        for kind, pattern in _patterns(decimal).items():
            compiled = re.compile(pattern)
            if all(compiled.match(v) for v in values) and any(_marked(v, kind, decimal) for v in values):
                return kind, decimal
    return None


def mismatches_sql(relation: str, conversions: dict[str, Conversion]) -> str:
    """One scan: per converted column, the first value of another form (NULL when there is none)."""
    parts = [
        f"min({quote_ident(name)}) FILTER (WHERE trim({quote_ident(name)}) <> '' "
        f"AND NOT regexp_full_match({quote_ident(name)}, {literal(_patterns(decimal)[kind])}))"
        for name, (kind, decimal) in conversions.items()
    ]
    return f"SELECT {', '.join(parts)} FROM {relation}"


def converted_sql(relation: str, conversions: dict[str, Conversion]) -> str:
    """`relation` with each converted column turned into a DOUBLE (parentheses make it negative)."""
    if not conversions:
        return relation
    replaced = []
    for name, (_, decimal) in conversions.items():
        column = quote_ident(name)
        keep = "0-9,+-" if decimal == "," else "0-9.+-"
        digits = f"regexp_replace({column}, '[^{keep}]', '', 'g')"
        if decimal == ",":
            digits = f"replace({digits}, ',', '.')"
        sign = f"CASE WHEN contains({column}, '(') THEN -1 ELSE 1 END"
        replaced.append(
            f"CASE WHEN trim({column}) = '' THEN NULL ELSE {sign} * CAST({digits} AS DOUBLE) END AS {column}"
        )
    return f"(SELECT * REPLACE ({', '.join(replaced)}) FROM {relation})"


def note(name: str, kind: Kind, table: str) -> str:
    if kind == "percent":
        return f"column {name!r} of {table} holds percentages: read as the number before % (12.5% is 12.5)"
    return f"column {name!r} of {table} holds money amounts: read as numbers (symbols and group separators dropped)"


def kept_text(name: str, kind: Kind, value: str) -> str:
    what = "a percentage" if kind == "percent" else "a money amount"
    return f"column {name!r} read as text: the value {value[:40]!r} is not {what}"


def date_order_note(name: str, fmt: str | None, values: list[str], table: str) -> str | None:
    """Said when a day/month date format was chosen but no sampled value has a day above 12."""
    fields = re.findall(r"%[a-zA-Z]", fmt or "")
    if "%d" not in fields or "%m" not in fields:
        return None
    day = fields.index("%d")
    for value in values:
        parts = re.split(r"\D+", value.strip())
        if len(parts) > day and parts[day].isdigit() and int(parts[day]) > 12:
            return None
    order = "day first (31/12)" if day < fields.index("%m") else "month first (12/31)"
    return f"dates in column {name!r} of {table} could be day or month first; read as {order}"


def apply(spec: CsvSpec, rows: list[list[str]], found: dict[str, Any], table: str, given: str | None) -> None:
    """Mark `spec`'s money and percentage columns for conversion, and say an unproven date order.
    `given` is the decimal mark the user gave; else "," is also tried where "," is not the delimiter."""
    decimal = str(spec.options.get("decimal_separator", "."))
    alone = given is not None or decimal == "," or spec.options.get("delim") == ","
    decimals = (decimal,) if alone else (decimal, ",")
    names = [c.name for c in spec.columns]
    spec.conversions = detect(names, [c.type for c in spec.columns], rows, decimals)
    for column in spec.columns:
        if column.name in spec.conversions:
            column.type = "DOUBLE"
            spec.notes.append(note(column.name, spec.conversions[column.name][0], table))
    formats = {"DATE": found.get("DateFormat"), "TIMESTAMP": found.get("TimestampFormat")}
    for index, column in enumerate(spec.columns):
        if column.type in formats:
            values = [r[index] for r in rows if index < len(r) and r[index].strip()]
            said = date_order_note(column.name, formats[column.type], values, table)
            if said:
                spec.notes.append(said)
