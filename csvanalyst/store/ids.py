"""Finding a run or thread from what a person types: the full id, a unique prefix, a unique suffix
(the random end of an id, which recent ids do not share the way they share their time-ordered start),
or `last`."""

from __future__ import annotations

import sqlite3
from typing import Literal

from csvanalyst.errors import NotFoundError, UsageError

LAST = "last"
MIN_CHARS = 4

# A run's `last` is the one started last (rowid: insertion order; two ids of the same millisecond sort by
# their random end); a thread's is the one most recently active.
_NEWEST = {"runs": "rowid DESC", "threads": "updated_at DESC"}
_NOUN = {"runs": "run", "threads": "thread"}


def resolve_id(db: sqlite3.Connection, table: Literal["runs", "threads"], given: str) -> str:
    """The full id `given` stands for, or a clear error (unknown, too short, ambiguous)."""
    noun, listing = _NOUN[table], f"`csvanalyst {table} list`"
    given = given.strip()
    if given.lower() == LAST:
        row = db.execute(f"SELECT id FROM {table} ORDER BY {_NEWEST[table]} LIMIT 1").fetchone()
        if row is None:
            raise NotFoundError(f"There is no {noun} yet.", hint=f"Ask a question first; then see {listing}.")
        return str(row[0])
    if len(given) < MIN_CHARS:
        raise UsageError(f"{noun.title()} id {given!r} is too short.", hint=f"Give at least {MIN_CHARS} characters.")
    pattern = given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = db.execute(
        f"SELECT id FROM {table} WHERE id = ? OR id LIKE ? ESCAPE '\\' OR id LIKE ? ESCAPE '\\' LIMIT 4",
        (given, pattern + "%", "%" + pattern),
    ).fetchall()
    ids = sorted(str(r[0]) for r in rows)
    if given in ids:
        return given
    if not ids:
        raise NotFoundError(f"No {noun} with id {given!r}.", hint=f"List recent ones with {listing}.")
    if len(ids) > 1:
        shown = ", ".join(ids[:3]) + (", …" if len(ids) > 3 else "")
        raise UsageError(
            f"{noun.title()} id {given!r} is ambiguous: it matches more than one {noun} ({shown}).",
            hint=f"Give more characters; the last {MIN_CHARS}-6 characters of an id are random, or use `{LAST}`.",
        )
    return ids[0]
