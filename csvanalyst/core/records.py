"""What the store recorded, read as typed records: the one way front ends see runs and threads.

Front ends never open the store themselves; each read here opens it, reads, and closes it, so no
front end holds a connection or knows the store's tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from csvanalyst.config import Settings
from csvanalyst.events import RunFinished
from csvanalyst.store.db import opened
from csvanalyst.store.runs import RunRecord
from csvanalyst.store.threads import MessageRecord, ThreadRecord

__all__ = ["MessageRecord", "Records", "RunRecord", "StoreHealth", "ThreadRecord", "Transcript"]


@dataclass(frozen=True)
class Transcript:
    """A stored thread whole: its record, its (question, answer) turns in order, and the runs they name."""

    thread: ThreadRecord
    turns: list[tuple[MessageRecord, MessageRecord]]
    runs: dict[str, RunRecord]


@dataclass(frozen=True)
class StoreHealth:
    check: str  # SQLite's quick_check verdict, "ok" when the file is sound
    runs: int


class Records:
    """Reads of one home's store. `readonly` never writes, so listings work on a full or read-only disk."""

    def __init__(self, settings: Settings, *, readonly: bool = False) -> None:
        self.store_path: Path = settings.store_path
        self.readonly = readonly

    def recent_runs(self, limit: int = 20, dataset: str | None = None) -> list[RunRecord]:
        """The newest runs first, optionally of one dataset only."""
        from csvanalyst.store import runs

        with opened(self.store_path, readonly=self.readonly) as db:
            return runs.recent(db, limit=limit, dataset=dataset)

    def run(self, run_id: str) -> RunRecord:
        """A run by full id, unique prefix or suffix, or `last`."""
        from csvanalyst.store import runs

        with opened(self.store_path, readonly=self.readonly) as db:
            return runs.get(db, run_id)

    def recent_threads(self, limit: int = 20) -> list[ThreadRecord]:
        """The most recently active threads first."""
        from csvanalyst.store import threads

        with opened(self.store_path, readonly=self.readonly) as db:
            return threads.recent(db, limit=limit)

    def thread(self, thread_id: str) -> ThreadRecord:
        """A thread by full id, unique prefix or suffix, or `last`."""
        from csvanalyst.store import threads

        with opened(self.store_path, readonly=self.readonly) as db:
            return threads.get(db, thread_id)

    def messages(self, thread_id: str, *, last_turns: int | None = None) -> list[MessageRecord]:
        """A thread's messages in order (`thread_id` in full); `last_turns` keeps the latest pairs only."""
        from csvanalyst.store import threads

        with opened(self.store_path, readonly=self.readonly) as db:
            return threads.messages(db, thread_id, last_turns=last_turns)

    def thread_messages(self, thread_id: str) -> tuple[ThreadRecord, list[MessageRecord]]:
        """A thread (by id, prefix, suffix or `last`) and its messages, read in one opening."""
        from csvanalyst.store import threads

        with opened(self.store_path, readonly=self.readonly) as db:
            record = threads.get(db, thread_id)
            return record, threads.messages(db, record.id)

    def transcript(self, thread_id: str) -> Transcript:
        """A thread with its messages and every run its answers name, to show it again."""
        from csvanalyst.store import runs, threads

        with opened(self.store_path, readonly=self.readonly) as db:
            record = threads.get(db, thread_id)
            turns = _turns(threads.messages(db, record.id))
            named = {rid: runs.get(db, rid) for _, answer in turns for rid in answer.run_ids}
        return Transcript(record, turns, named)

    def run_count(self) -> int:
        """How many runs are recorded; opening and counting proves the store is usable."""
        with opened(self.store_path, readonly=self.readonly) as db:
            return int(db.execute("SELECT count(*) FROM runs").fetchone()[0])

    def health(self) -> StoreHealth:
        """SQLite's own integrity verdict on the file, and the number of runs in it."""
        with opened(self.store_path, readonly=self.readonly) as db:
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            return StoreHealth(check=check, runs=int(db.execute("SELECT count(*) FROM runs").fetchone()[0]))


def _turns(messages: list[MessageRecord]) -> list[tuple[MessageRecord, MessageRecord]]:
    """Each question with the answer that follows it; a question left without one is not a turn."""
    turns, question = [], None
    for message in messages:
        if message.role == "user":
            question = message
        elif question is not None:
            turns.append((question, message))
            question = None
    return turns


def finished_event(record: RunRecord) -> RunFinished:
    """A recorded run as the event a live run ends with, so a run read back is shown (and charted) like one
    that has just finished."""
    return RunFinished(
        run_id=record.id,
        status=record.status,
        sql=record.compiled_sql or record.input,
        columns=record.columns,
        rows=record.preview,
        row_count=record.row_count or 0,
        truncated=record.truncated,
    )


def repair_interrupted_runs(store_path: Path) -> int:
    """Mark `running` runs whose owning process is gone as interrupted; returns how many."""
    from csvanalyst.store.owners import repair_orphaned_runs

    with opened(store_path) as db:
        return repair_orphaned_runs(db)
