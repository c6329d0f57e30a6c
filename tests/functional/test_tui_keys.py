"""The app's keys, pressed for real through Pilot while the prompt holds text: each does its job and none
edits the prompt (the prompt's own editing keys, such as Ctrl+D delete-right, stay the prompt's)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from csvanalyst.tui.app import AnalystApp
from csvanalyst.tui.widgets.dataset_tree import DatasetTree
from csvanalyst.tui.widgets.prompt import PromptInput
from csvanalyst.tui.widgets.status_bar import StatusBar
from csvanalyst.tui.widgets.thread_list import ThreadList
from tests.functional.tui_helpers import drive


def _keys(bindings: list[Any]) -> set[str]:
    return {k for b in bindings for k in (b.key if hasattr(b, "key") else b[0]).split(",")}


def test_no_app_key_is_an_editing_key_of_the_prompt() -> None:
    prompt_keys = set().union(*(_keys(getattr(c, "BINDINGS", []) or []) for c in PromptInput.__mro__))
    app_keys = _keys(AnalystApp.BINDINGS) - {"escape", "ctrl+q"}  # Esc cancels; Ctrl+Q quits, by priority
    assert not app_keys & prompt_keys, app_keys & prompt_keys


def test_each_key_moves_focus_without_touching_the_prompt_and_ctrl_d_still_edits() -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Any]) -> None:
        app = pilot.app
        prompt = app.query_one(PromptInput)
        prompt.load_text("abcd")
        prompt.move_cursor((0, 2))
        await pilot.press("ctrl+o")
        state["datasets"] = isinstance(app.focused, DatasetTree)
        await pilot.press("ctrl+r")
        state["threads"] = isinstance(app.focused, ThreadList)
        await pilot.press("ctrl+l")
        state["prompt"] = app.focused is prompt
        state["text_after_focus_keys"] = prompt.text
        await pilot.press("ctrl+d")  # the prompt's delete-right
        state["text_after_ctrl_d"] = prompt.text

    drive(scenario)
    assert state["datasets"] and state["threads"] and state["prompt"]
    assert state["text_after_focus_keys"] == "abcd"
    assert state["text_after_ctrl_d"] == "abd"


def test_sidebar_is_relative_and_collapses_at_80_columns() -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Any]) -> None:
        app = pilot.app
        sidebar, conversation = app.query_one("#sidebar"), app.query_one("#conversation")
        await pilot.pause()
        state["open"] = (sidebar.size.width, conversation.size.width)
        await pilot.press("ctrl+b")
        await pilot.pause()
        state["closed"] = (sidebar.display, conversation.size.width, app.focused is app.query_one(PromptInput))
        await pilot.press("ctrl+o")  # focusing the datasets brings the sidebar back
        await pilot.pause()
        state["back"] = (sidebar.display, isinstance(app.focused, DatasetTree))
        status = app.query_one(StatusBar)
        status.busy = "running… (Esc cancels)"
        await pilot.pause()
        state["status"] = (status.size.width, status.line(status.size.width))

    drive(scenario, size=(80, 24))
    sidebar_width, conversation_width = state["open"]
    assert sidebar_width <= 80 * 0.3 + 1 and conversation_width >= 50
    assert state["closed"][0] is False and state["closed"][1] >= 76 and state["closed"][2]
    assert state["back"] == (True, True)
    width, line = state["status"]
    assert len(line) <= width and line.startswith("running…")  # the busy state is never the part cut off


def test_reopening_a_thread_on_another_dataset_moves_the_tree_to_it() -> None:
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.events import Done
    from tests.functional.tui_helpers import until

    with Session(provider="offline") as session:
        events = list(session.ask("how many tickets", DataScope(dataset="support")))
    assert isinstance(events[-1], Done)
    thread_id = events[-1].thread_id
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Any]) -> None:
        app = pilot.app
        await until(pilot, lambda: app.dataset_info is not None and app.dataset_info.name == "support", "support")
        await pilot.pause()
        tree = app.query_one(DatasetTree)
        state["nodes"] = {(n.data or {}).get("dataset"): (str(n.label), len(n.children)) for n in tree.root.children}

    drive(scenario, scope=DataScope(dataset="retail"), thread_id=thread_id)
    assert state["nodes"]["support"][1] > 0  # expanded into its tables
    assert state["nodes"]["retail"][1] == 0  # the old one folded
