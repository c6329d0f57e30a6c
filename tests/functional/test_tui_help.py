"""The help screen opens on its key, lists every key binding the terminal app has, and closes.

The bindings are found by walking every class of csvanalyst.tui that declares `BINDINGS`, so a binding
added to any widget (or a new widget with keys) fails this test until the help screen shows it.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widgets import Markdown

import csvanalyst.tui
from csvanalyst.tui.app import AnalystApp
from csvanalyst.tui.screens.help import HelpScreen, key_label
from tests.functional.tui_helpers import drive


def every_binding() -> list[tuple[str, Binding]]:
    """(class name, binding) for each binding declared by a class of the terminal app."""
    found: dict[tuple[str, str], Binding] = {}
    for module in pkgutil.walk_packages(csvanalyst.tui.__path__, "csvanalyst.tui."):
        for name, cls in inspect.getmembers(importlib.import_module(module.name), inspect.isclass):
            if not (issubclass(cls, DOMNode) and cls.__module__.startswith("csvanalyst.tui")):
                continue
            for binding in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])):
                found[(name, binding.key)] = binding
    found[("AnalystApp", AnalystApp.COMMAND_PALETTE_BINDING)] = Binding(AnalystApp.COMMAND_PALETTE_BINDING, "", "")
    return [(owner, binding) for (owner, _), binding in sorted(found.items())]


def _rows(markdown: str) -> dict[str, list[str]]:
    """Key → what-it-does cells of the key-table rows naming it (a key may act in two places: Esc)."""
    rows: dict[str, list[str]] = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and cells[0].startswith("`"):
            for key in cells[0].strip("`").split(" / "):
                rows.setdefault(key, []).append(cells[1])
    return rows


def test_the_walk_finds_the_bindings_of_the_app_and_its_widgets() -> None:
    owners = {owner for owner, _ in every_binding()}
    assert {"AnalystApp", "PromptInput", "ResultTable", "RunBlock", "HelpScreen"} <= owners
    assert len(every_binding()) >= 20


def test_help_opens_on_f1_lists_every_binding_and_closes() -> None:
    state: dict[str, Any] = {"closed_by": []}

    async def scenario(pilot: Pilot[Any], seen: list[Any]) -> None:
        await pilot.press("f1")
        await pilot.pause()
        state["opened"] = isinstance(pilot.app.screen, HelpScreen)
        state["markdown"] = pilot.app.screen.query_one(Markdown).source
        for key in ("escape", "q", "f1"):
            if not isinstance(pilot.app.screen, HelpScreen):
                await pilot.press("f1")
                await pilot.pause()
            await pilot.press(key)
            await pilot.pause()
            state["closed_by"].append((key, not isinstance(pilot.app.screen, HelpScreen)))

    drive(scenario)
    assert state["opened"]
    rows = _rows(state["markdown"])
    missing = [f"{owner}: {binding.key}" for owner, binding in every_binding() if key_label(binding.key) not in rows]
    assert not missing, f"bindings the help screen does not list: {missing}"
    for _owner, binding in every_binding():
        if binding.description:
            assert (
                binding.tooltip in rows[key_label(binding.key)] or binding.description in rows[key_label(binding.key)]
            )
    assert state["closed_by"] == [("escape", True), ("q", True), ("f1", True)]


def test_key_labels_read_as_people_write_them() -> None:
    assert [key_label(k) for k in ("ctrl+n", "right_square_bracket", "f1", "escape", "s", "ctrl+shift+x")] == [
        "Ctrl+N",
        "]",
        "F1",
        "Esc",
        "s",
        "Ctrl+Shift+X",
    ]
