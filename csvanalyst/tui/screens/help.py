"""Keys and slash commands on one screen (F1 or /help)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from csvanalyst.tui.commands import COMMANDS

KEYS = [
    ("Enter", "send the question (or command)"),
    ("Ctrl+J", "new line in the prompt"),
    ("↑ / ↓", "previous / next entry of the prompt history (at the first / last line)"),
    ("Ctrl+T", "prompt mode: ask → SQL → PYTHON"),
    ("Esc", "cancel the running question"),
    ("Ctrl+N", "new thread"),
    ("Ctrl+R / Ctrl+O / Ctrl+L", "focus threads / datasets / prompt"),
    ("Ctrl+B", "hide / show the sidebar"),
    ("Ctrl+P", "command palette"),
    ("c · a · x · s", "in a result: copy SQL · load all rows · export · sort by the column"),
    ("Ctrl+Q", "quit"),
]


def help_markdown() -> str:
    keys = "\n".join(f"| `{k}` | {v} |" for k, v in KEYS)
    commands = "\n".join(f"| `{name}` | {text} |" for name, text in COMMANDS.items())
    return f"# Keys\n\n| key | does |\n|---|---|\n{keys}\n\n# Commands\n\n| command | does |\n|---|---|\n{commands}\n"


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown())
