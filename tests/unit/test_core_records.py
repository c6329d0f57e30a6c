"""The core's typed reads of the store (core/records.py) and the Session's one way to start a thread."""

from __future__ import annotations

import sqlite3

import pytest

from csvanalyst.config import get_settings
from csvanalyst.core.query import DataScope
from csvanalyst.core.records import Records, repair_interrupted_runs
from csvanalyst.core.session import Session
from csvanalyst.errors import NotFoundError
from csvanalyst.store import runs, threads
from csvanalyst.store.db import connect, opened


def _finished_run(db: sqlite3.Connection, thread_id: str, sql: str) -> str:
    run_id = runs.start(db, dataset="d", fingerprint="f", kind="sql", input=sql, thread_id=thread_id)
    runs.finish(db, run_id, status="ok", row_count=1, columns=[{"name": "x", "type": "INTEGER"}], rows=[[1]])
    return run_id


def test_a_thread_started_by_the_session_reads_back_whole_through_the_core() -> None:
    session = Session(provider="offline")
    thread_id = session.create_thread("  how many orders?  ", DataScope(dataset="retail"))
    with opened(get_settings().store_path) as db:
        first = _finished_run(db, thread_id, "SELECT 1")
        second = _finished_run(db, thread_id, "SELECT 2")
        threads.add_turn(db, thread_id, question="q1", answer="a1", run_ids=[first], status="answered")
        threads.add_turn(db, thread_id, question="q2", answer="a2", run_ids=[second], status="answered")

    transcript = session.records.transcript(thread_id[-6:])
    assert transcript.thread.title == "how many orders?"
    assert transcript.thread.scope == {"dataset": "retail"}
    assert [(q.content, a.content) for q, a in transcript.turns] == [("q1", "a1"), ("q2", "a2")]
    assert set(transcript.runs) == {first, second}
    assert transcript.runs[second].input == "SELECT 2"
    record, messages = session.records.thread_messages("last")
    assert record.id == thread_id and [m.role for m in messages] == ["user", "assistant"] * 2
    assert [m.content for m in session.records.messages(thread_id, last_turns=1)] == ["q2", "a2"]
    # newest first in the order the runs were started, also within one millisecond
    assert [r.id for r in session.records.recent_runs(limit=1)] == [second]
    assert session.records.run(first).thread_id == thread_id
    assert session.records.run_count() == 2


def test_a_question_left_without_its_answer_is_not_a_turn() -> None:
    thread_id = Session(provider="offline").create_thread("", DataScope(dataset="retail"))
    with opened(get_settings().store_path) as db:
        db.execute(
            "INSERT INTO messages (thread_id, role, content, created_at) VALUES (?, 'user', 'lost', '2026')",
            (thread_id,),
        )
    transcript = Records(get_settings()).transcript(thread_id)
    assert transcript.thread.title == "(empty question)"
    assert transcript.turns == [] and transcript.runs == {}


def test_readonly_reads_and_an_unknown_id_is_a_clear_error() -> None:
    settings = get_settings()
    with opened(settings.store_path) as db:
        thread_id = threads.create(db, title="t", scope={})
    reader = Records(settings, readonly=True)
    assert [t.id for t in reader.recent_threads()] == [thread_id]
    assert reader.health().check == "ok" and reader.health().runs == 0
    with pytest.raises(NotFoundError):
        reader.run("ffffffff")


def test_the_store_is_closed_when_the_block_raises() -> None:
    path = get_settings().store_path
    with pytest.raises(RuntimeError), opened(path) as db:
        raise RuntimeError("boom")
    with pytest.raises(sqlite3.ProgrammingError):
        db.execute("SELECT 1")


def test_interrupted_runs_of_a_dead_owner_are_repaired_through_the_core() -> None:
    path = get_settings().store_path
    db = connect(path)
    run_id = runs.start(db, dataset="d", fingerprint="f", kind="sql", input="SELECT 1")
    db.execute("UPDATE runs SET owner_host = NULL WHERE id = ?", (run_id,))
    db.close()
    assert repair_interrupted_runs(path) == 1
    assert Records(get_settings()).run(run_id).status == "error"
