"""Replaying a recorded run through the same path as a new query."""

from __future__ import annotations

from csvanalyst.config import Settings
from csvanalyst.core.query import DataScope, QueryOutcome, execute
from csvanalyst.core.records import RunRecord
from csvanalyst.errors import UsageError


def scope_of(record: RunRecord) -> DataScope:
    """The same data the run saw: the named dataset, or the same CSV files."""
    scope = DataScope.from_dict(record.scope)
    if not scope.dataset and not scope.files:
        raise UsageError(f"Run {record.id} has no recorded data scope to replay on.")
    return scope


def replay_run(run_id: str, *, settings: Settings) -> tuple[QueryOutcome, RunRecord]:
    from csvanalyst.core.records import Records

    original = Records(settings).run(run_id)
    kind = original.kind if original.kind in ("sql", "plan") else None
    if kind is None:
        raise UsageError(f"Run {original.id} is a {original.kind} run, which cannot be replayed yet.")
    return execute(kind, original.input, scope_of(original), settings=settings), original  # type: ignore[arg-type]
