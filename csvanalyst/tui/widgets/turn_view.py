"""One question and everything its turn produced, rendered as the events arrive."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from csvanalyst.core.terminal import printable
from csvanalyst.events import Answer, Chart, Done, ErrorEvent, RunFinished, Status, TextDelta, ToolCallEvent
from csvanalyst.tui.widgets.run_block import RunBlock


class ErrorView(Static):
    """An error inline in the conversation, with its hint on the next line."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        text = f"[b]✗ {code}[/b]: {_escape(message)}" + (f"\n[i]hint:[/i] {_escape(hint)}" if hint else "")
        super().__init__(text, classes="error")
        self.code = code


def _escape(text: str) -> str:
    from csvanalyst.markup import escape

    return escape(text)


class TurnView(Vertical):
    """State of one turn: streamed answer text, run blocks by run id, and how it ended."""

    def __init__(self, question: str, **kwargs: Any) -> None:
        super().__init__(classes="turn", **kwargs)
        self.question = question
        self.streamed = ""
        self.answer_text = ""
        self.status: str | None = None  # the Done status once the turn ended
        self.blocks: dict[str, RunBlock] = {}

    def compose(self) -> ComposeResult:
        yield Static(f"[b]›[/b] {_escape(self.question)}", classes="question")
        yield Static("", classes="turn-status")
        from csvanalyst.tui.widgets.answer_view import AnswerView  # markdown-it loads after the first paint

        yield AnswerView(classes="answer")

    def _answer(self) -> Any:
        return self.query_one(".answer")

    def apply(self, event: Any) -> None:
        """Render one event of this turn."""
        if isinstance(event, Status):
            self._status(f"… {event.message}")
        elif isinstance(event, ToolCallEvent):
            self._status(f"→ {event.name}")
        elif isinstance(event, TextDelta):
            self.streamed += event.text
            # stripped as the final answer is, so the final text extends what was streamed
            self._answer().show(printable(self.streamed.strip()))
        elif isinstance(event, RunFinished):
            self.add_run(event)
        elif isinstance(event, Chart):
            block = self.blocks.get(event.run_id)
            if block is not None:
                block.add_chart(event.spec)
        elif isinstance(event, Answer):
            self.answer_text = event.text
            self._answer().show(printable(event.text))
        elif isinstance(event, ErrorEvent):
            self.mount(ErrorView(event.code, event.message, event.hint), before=self.query_one(".answer"))
        elif isinstance(event, Done):
            self.finish(event.status)

    def add_run(self, run: RunFinished) -> RunBlock:
        block = RunBlock(run)
        self.blocks[run.run_id] = block
        self.mount(block, before=self.query_one(".answer"))
        return block

    def finish(self, status: str) -> None:
        if self.status is None:
            self.status = status
            self._status("" if status == "answered" else f"({status})")

    def show_answer(self, text: str) -> None:
        """A stored answer (a resumed thread): shown without its events."""
        self.answer_text = text
        self._answer().show(printable(text))

    @property
    def answer_drawing(self) -> bool:
        """True until the answer view shows the latest answer text."""
        return bool(self._answer().drawing)

    def _status(self, text: str) -> None:
        self.query_one(".turn-status", Static).update(_escape(text))
