"""Typed messages that workers post to the app. Workers never touch widgets; handlers own the state.

Textual's `post_message` is thread-safe, so a thread worker running the Session or the sandbox can post
these while the UI keeps drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.message import Message

from csvanalyst.events import Event, RunFinished


class TurnEvent(Message):
    """One event of a running turn, tagged with the turn it belongs to."""

    def __init__(self, turn: int, event: Event) -> None:
        super().__init__()
        self.turn = turn
        self.event = event


class ThreadStarted(Message):
    """A new conversation's thread was created for this turn (before the turn's first event)."""

    def __init__(self, turn: int, thread_id: str) -> None:
        super().__init__()
        self.turn = turn
        self.thread_id = thread_id


class TurnEnded(Message):
    """The worker stopped consuming the turn's events (answered, failed, or cancelled)."""

    def __init__(self, turn: int) -> None:
        super().__init__()
        self.turn = turn


class FullResult(Message):
    """Every row of a run (re-run from its SQL), for the table and for an export."""

    def __init__(self, run_id: str, columns: list[dict[str, str]], rows: list[list[Any]]) -> None:
        super().__init__()
        self.run_id = run_id
        self.columns = columns
        self.rows = rows


class Exported(Message):
    def __init__(self, path: Path, rows: int) -> None:
        super().__init__()
        self.path = path
        self.rows = rows


class ActionFailed(Message):
    """A background action raised an error of the tree: shown inline with its hint, never a crash."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__()
        self.code = code
        self.message = message
        self.hint = hint


class DatasetProgress(Message):
    def __init__(self, stage: str, fraction: float) -> None:
        super().__init__()
        self.stage = stage
        self.fraction = fraction


class DatasetReady(Message):
    """A dataset (or the ad-hoc files) resolved: the sidebar shows its tables and columns."""

    def __init__(self, info: Any, *, switch: bool) -> None:
        super().__init__()
        self.info = info
        self.switch = switch


class Replayed(Message):
    """An earlier run replayed: shown as a run block of its own."""

    def __init__(self, original_id: str, event: RunFinished) -> None:
        super().__init__()
        self.original_id = original_id
        self.event = event


class SidebarLoaded(Message):
    """The store's datasets and recent threads, read off the UI thread after the first paint."""

    def __init__(self, datasets: list[str], threads: list[Any]) -> None:
        super().__init__()
        self.datasets = datasets
        self.threads = threads


class ModelDescribed(Message):
    """Provider and model as the Session will use them (building the client may import an SDK)."""

    def __init__(self, provider: str, model: str) -> None:
        super().__init__()
        self.provider = provider
        self.model = model
