"""Run capsules in the real SQLite store: recorded before execution, closed with a final status."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from csvanalyst.errors import NotFoundError, UsageError
from csvanalyst.store import runs
from csvanalyst.store.db import connect, transaction


@pytest.fixture
def db(tmp_path: Path) -> sqlite3.Connection:
    return connect(tmp_path / "store.db")


def test_run_is_recorded_as_running_then_finished(db: sqlite3.Connection) -> None:
    run_id = runs.start(
        db, dataset="retail", fingerprint="abc", kind="sql", input="SELECT 1", scope={"dataset": "retail"}
    )
    assert runs.get(db, run_id).status == "running"
    rows = [[i, f"v{i}"] for i in range(80)]
    runs.finish(
        db,
        run_id,
        status="ok",
        compiled_sql="SELECT 1 LIMIT 11",
        executor="local",
        row_count=80,
        columns=[{"name": "a", "type": "INTEGER"}],
        rows=rows,
        timings={"total_ms": 12.5},
    )
    record = runs.get(db, run_id)
    assert record.status == "ok"
    assert record.row_count == 80
    assert len(record.preview) == runs.PREVIEW_ROWS
    assert record.preview[0] == [0, "v0"]
    assert record.scope == {"dataset": "retail"}
    assert record.finished_at is not None


def test_prefix_lookup_and_errors(db: sqlite3.Connection) -> None:
    run_id = runs.start(db, dataset=None, fingerprint=None, kind="sql", input="x")
    assert runs.get(db, run_id[:8]).id == run_id
    with pytest.raises(NotFoundError, match="No run"):
        runs.get(db, "ffffffffff")
    with pytest.raises(UsageError, match="too short"):
        runs.get(db, "ab")
    runs.start(db, dataset=None, fingerprint=None, kind="sql", input="y")
    with pytest.raises(UsageError, match="ambiguous"):
        runs.get(db, run_id[:4])


def test_four_characters_of_the_random_end_find_one_of_many_recent_runs(db: sqlite3.Connection) -> None:
    ids = [runs.start(db, dataset=None, fingerprint=None, kind="sql", input=str(i)) for i in range(40)]
    with pytest.raises(UsageError, match="ambiguous"):
        runs.get(db, ids[0][:6])  # recent ids share their time-ordered start
    unique = [i for i in ids if sum(other.endswith(i[-4:]) for other in ids) == 1]
    assert len(unique) >= 30
    assert all(runs.get(db, i[-4:]).id == i for i in unique)
    assert runs.get(db, "last").id == ids[-1]
    assert runs.get(db, "LAST").id == ids[-1]


def test_last_with_nothing_recorded_is_not_found(db: sqlite3.Connection) -> None:
    from csvanalyst.store import threads

    with pytest.raises(NotFoundError, match="no run yet"):
        runs.get(db, "last")
    with pytest.raises(NotFoundError, match="no thread yet"):
        threads.get(db, "last")


def test_threads_by_suffix_and_last_is_the_most_recently_active(db: sqlite3.Connection) -> None:
    from csvanalyst.store import threads

    first = threads.create(db, title="a", scope={})
    second = threads.create(db, title="b", scope={})
    threads.add_turn(db, first, question="q", answer="a", run_ids=[], status="answered")
    assert threads.get(db, "last").id == first
    if second[-4:] != first[-4:]:  # two random ends collide once in 65536
        assert threads.get(db, second[-4:]).id == second
    assert threads.get(db, "last").turns == 1


def test_recent_is_newest_first(db: sqlite3.Connection) -> None:
    ids = [runs.start(db, dataset="d", fingerprint=None, kind="sql", input=str(i)) for i in range(5)]
    assert [r.id for r in runs.recent(db, limit=3)] == ids[::-1][:3]
    assert [r.id for r in runs.recent(db, limit=3, dataset="d")] == ids[::-1][:3]
    assert runs.recent(db, dataset="other") == []


def test_runs_started_in_the_same_millisecond_list_and_resolve_in_the_order_they_started(
    db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their ids share the time part and differ only in the random end, which says nothing of order."""
    monkeypatch.setattr(runs.time, "time", lambda: 1_765_000_000.123)
    ids = [runs.start(db, dataset="d", fingerprint=None, kind="sql", input=str(i)) for i in range(12)]
    assert len({i[:11] for i in ids}) == 1 and ids != sorted(ids)  # random ends: not in start order
    assert [r.id for r in runs.recent(db, limit=12)] == ids[::-1]
    assert runs.get(db, "last").id == ids[-1]


def test_failed_transaction_leaves_store_unchanged(db: sqlite3.Connection) -> None:
    before = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    with pytest.raises(RuntimeError), transaction(db):
        db.execute("INSERT INTO runs (id, created_at, kind, input, status) VALUES ('x', 'now', 'sql', 'q', 'ok')")
        raise RuntimeError("crash in the middle")
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == before


def test_migrations_apply_once(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    connect(path).close()
    db = connect(path)
    assert [r[0] for r in db.execute("SELECT number FROM migrations")] == [1, 2, 3]
