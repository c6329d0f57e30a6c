"""The multi-line input: Enter sends, Ctrl+J adds a line, ↑/↓ at the edges walk the history.

The mode (ask, SQL, PYTHON) is shown in the border and prefixed to what is sent, so `SQL:` and
`PYTHON:` reach the Session exactly as if typed.
"""

from __future__ import annotations

from typing import Any

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

MODES = ("ask", "SQL", "PYTHON")


class PromptInput(TextArea):
    BINDINGS = [  # noqa: RUF012
        Binding("ctrl+t", "cycle_mode", "Mode", tooltip="prompt mode: ask → SQL → PYTHON"),
        Binding("ctrl+j", "newline", "New line", show=False, tooltip="a new line in the prompt"),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(soft_wrap=True, tab_behavior="focus", show_line_numbers=False, **kwargs)
        self.entries: list[str] = []
        self._cursor_in_history: int | None = None
        self._draft = ""
        self.mode = "ask"

    def on_mount(self) -> None:
        self._show_mode()

    def _show_mode(self) -> None:
        hint = {"ask": "ask in plain language · /help", "SQL": "SQL (DuckDB)", "PYTHON": "PYTHON"}[self.mode]
        self.border_title = f"{self.mode} · {hint}" if self.mode != "ask" else hint

    def action_cycle_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._show_mode()

    def action_newline(self) -> None:
        self.insert("\n")

    def outgoing(self, text: str) -> str:
        """What the Session receives: the mode prefix unless the text is a command or already prefixed."""
        if self.mode == "ask" or text.startswith("/") or text.upper().startswith(f"{self.mode}:"):
            return text
        return f"{self.mode}: {text}"

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.prevent_default()
            event.stop()
            self._submit()
        elif event.key == "up" and self.cursor_location[0] == 0 and self.entries:
            event.prevent_default()
            event.stop()
            self._walk(-1)
        elif event.key == "down" and self.cursor_location[0] == self.document.line_count - 1 and self.entries:
            event.prevent_default()
            event.stop()
            self._walk(1)
        else:
            await super()._on_key(event)

    def _submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if not self.entries or self.entries[-1] != text:
            self.entries.append(text)
        self._cursor_in_history = None
        self.clear()
        self.post_message(self.Submitted(self.outgoing(text)))

    def _walk(self, step: int) -> None:
        """Older (-1) or newer (+1) entry; past the newest comes back to the unsent draft."""
        if self._cursor_in_history is None:
            if step > 0:
                return
            self._draft, index = self.text, len(self.entries) - 1
        else:
            index = self._cursor_in_history + step
        if index < 0:
            return
        if index >= len(self.entries):
            self._cursor_in_history = None
            self._replace(self._draft)
            return
        self._cursor_in_history = index
        self._replace(self.entries[index])

    def _replace(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
