"""Keys and slash commands on one screen (F1 or /help), read from the bindings the app really has.

Every row of the key tables comes from a `BINDINGS` list (the app's, the prompt's, a result's, this
screen's), so a binding cannot exist without being listed here; only keys handled outside any binding
(Enter, the history arrows) are written out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.keys import key_to_character
from textual.screen import ModalScreen
from textual.widgets import Markdown

from csvanalyst.tui.commands import COMMANDS

PROMPT_KEYS = [
    ("Enter", "send the question (or command)"),
    ("↑ / ↓", "previous / next entry of the prompt history (at the first / last line)"),
]
_NAMES = {"escape": "Esc", "enter": "Enter", "tab": "Tab", "space": "Space", "up": "↑", "down": "↓"}


def key_label(key: str) -> str:
    """`ctrl+n` → `Ctrl+N`, `right_square_bracket` → `]`, `f1` → `F1`, `escape` → `Esc`."""
    *modifiers, last = key.split("+")
    name = _NAMES.get(last) or (last.upper() if last[:1] == "f" and last[1:].isdigit() else None)
    name = name or key_to_character(last) or last
    if modifiers and len(name) == 1:
        name = name.upper()
    return "+".join([*(m.capitalize() for m in modifiers), name])


def binding_rows(bindings: Iterable[Any]) -> list[tuple[str, str]]:
    """One row per action: its keys joined, and what it does (the tooltip, else the description)."""
    grouped: dict[str, tuple[list[str], str]] = {}
    for binding in Binding.make_bindings(bindings):
        keys, _text = grouped.setdefault(binding.action, ([], binding.tooltip or binding.description))
        keys.append(key_label(binding.key))
    return [(" / ".join(keys), text) for keys, text in grouped.values()]


def key_sections(app_bindings: Iterable[Any], palette_key: str) -> list[tuple[str, list[tuple[str, str]]]]:
    from csvanalyst.tui.widgets.prompt import PromptInput
    from csvanalyst.tui.widgets.result_table import ResultTable
    from csvanalyst.tui.widgets.run_block import RunBlock

    return [
        ("Anywhere", [*binding_rows(app_bindings), (key_label(palette_key), "command palette")]),
        ("In the prompt", [*PROMPT_KEYS, *binding_rows(PromptInput.BINDINGS)]),
        ("In a result", [*binding_rows(RunBlock.BINDINGS), *binding_rows(ResultTable.BINDINGS)]),
        ("On this screen", binding_rows(HelpScreen.BINDINGS)),
    ]


def help_markdown(app_bindings: Iterable[Any] = (), palette_key: str = "ctrl+p") -> str:
    parts = ["# Keys\n"]
    for title, rows in key_sections(app_bindings, palette_key):
        table = "\n".join(f"| `{keys}` | {text} |" for keys, text in rows)
        parts.append(f"## {title}\n\n| key | does |\n|---|---|\n{table}\n")
    commands = "\n".join(f"| `{name}` | {text} |" for name, text in COMMANDS.items())
    parts.append(f"# Commands\n\n| command | does |\n|---|---|\n{commands}\n")
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1", "dismiss", "Close", tooltip="close this help")]  # noqa: RUF012

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown(self.app.BINDINGS, self.app.COMMAND_PALETTE_BINDING))
