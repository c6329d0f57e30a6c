"""Actions in the terminal app: export, replay, adding a dataset, reopening a thread, slash commands,
and the screenshot the README shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from textual.message import Message
from textual.pilot import Pilot

from csvanalyst.tui import messages as msg
from csvanalyst.tui.screens.help import HelpScreen
from csvanalyst.tui.widgets.run_block import RunBlock
from csvanalyst.tui.widgets.status_bar import StatusBar
from csvanalyst.tui.widgets.turn_view import ErrorView, TurnView
from tests.functional.tui_helpers import ask, drive, of_type, type_text, until

STATUS_SQL = "SQL: SELECT status, count(*) AS n FROM orders GROUP BY ALL ORDER BY n DESC"


def test_export_the_selected_result_to_csv_json_and_parquet(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, STATUS_SQL)
        for ext in ("csv", "json", "parquet"):
            await type_text(pilot, f"/export {tmp_path / ('out.' + ext)}")
        await until(pilot, lambda: len(of_type(seen, msg.Exported)) == 3, "three exports")

    drive(scenario)
    csv_lines = (tmp_path / "out.csv").read_text().splitlines()
    assert csv_lines[0] == "status,n" and len(csv_lines) == 6
    document = json.loads((tmp_path / "out.json").read_text())
    assert document["row_count"] == 5 and document["columns"][1] == {"name": "n", "type": "BIGINT"}
    parquet = duckdb.sql(f"SELECT sum(n), typeof(n) FROM '{tmp_path / 'out.parquet'}' GROUP BY ALL").fetchall()
    assert parquet == [(3000, "BIGINT")]


def test_export_of_a_preview_reruns_for_every_row(tmp_path: Path) -> None:
    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "SQL: SELECT order_id FROM orders")
        assert not pilot.app.query_one(RunBlock).complete  # the event carries a 200-row preview
        await type_text(pilot, f"/export {tmp_path / 'all.csv'}")
        await until(pilot, lambda: bool(of_type(seen, msg.Exported)), "the export")
        pilot.app.query_one(RunBlock).query_one("DataTable").focus()
        await pilot.press("a")  # load all rows into the table
        await until(pilot, lambda: pilot.app.query_one(RunBlock).complete, "all rows loaded")

    seen = drive(scenario)
    assert len((tmp_path / "all.csv").read_text().splitlines()) == 3001
    assert len(of_type(seen, msg.FullResult)[0].rows) == 3000


def test_bad_export_path_and_unknown_command_are_inline_errors(tmp_path: Path) -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await type_text(pilot, "/export nothing.csv")  # no result yet
        await ask(pilot, STATUS_SQL)
        await type_text(pilot, f"/export {tmp_path / 'out.xlsx'}")
        await type_text(pilot, "/frobnicate")
        await until(pilot, lambda: len(pilot.app.query(ErrorView)) == 3, "three errors")
        state["errors"] = [str(e.render()) for e in pilot.app.query(ErrorView)]

    drive(scenario)
    assert "Ask a question first" in state["errors"][0]
    assert ".xlsx" in state["errors"][1] and ".parquet" in state["errors"][1]
    assert "/help" in state["errors"][2]


def test_runs_lists_and_replays_an_earlier_run() -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, STATUS_SQL)
        original = pilot.app.query_one(RunBlock).run
        await type_text(pilot, "/runs")
        await type_text(pilot, f"/runs {original.run_id[:8]}")
        await until(pilot, lambda: bool(of_type(seen, msg.Replayed)), "the replay")
        await pilot.pause()
        state["original"], state["blocks"] = original, [b.run for b in pilot.app.query(RunBlock)]

    drive(scenario)
    replayed = state["blocks"][-1]
    assert len(state["blocks"]) == 2 and replayed.run_id != state["original"].run_id
    assert replayed.rows == state["original"].rows


def test_add_a_dataset_from_a_path_then_ask_it(tmp_path: Path) -> None:
    csv = tmp_path / "Team Scores.csv"
    csv.write_text("player,score\nana,3\nbo,5\nana,4\n")
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await type_text(pilot, f'/dataset add "{csv}" scores')
        await until(pilot, lambda: pilot.app.scope.dataset == "scores", "the switch to the new dataset")
        await ask(pilot, "SQL: SELECT sum(score) AS total FROM team_scores")
        state["rows"] = pilot.app.query_one(RunBlock).run.rows
        state["status"] = pilot.app.query_one(StatusBar).dataset
        await type_text(pilot, f"/dataset add {tmp_path / 'missing.csv'}")
        await until(pilot, lambda: bool(pilot.app.query(ErrorView)), "an inline error")

    seen = drive(scenario)
    assert state["rows"] == [[12]] and state["status"] == "scores"
    assert of_type(seen, msg.DatasetProgress)
    assert of_type(seen, msg.ActionFailed)[-1].code in ("bad_input", "not_found")


def test_reopening_a_thread_shows_its_turns_and_continues_it() -> None:
    state: dict[str, Any] = {}

    async def first_day(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "how many orders")
        state["thread"] = pilot.app.thread_id

    async def next_day(pilot: Pilot[Any], seen: list[Message]) -> None:
        await until(pilot, lambda: bool(pilot.app.query(TurnView)), "the stored turn")
        state["shown"] = [v.answer_text for v in pilot.app.query(TurnView)]
        state["blocks"] = len(pilot.app.query(RunBlock))
        await ask(pilot, "how many customers")
        state["after"] = pilot.app.thread_id

    drive(first_day)
    drive(next_day, thread_id=state["thread"])
    assert "3000" in state["shown"][0].replace(",", "") and state["blocks"] == 1
    assert state["after"] == state["thread"]


def test_new_thread_help_screen_and_screenshot(tmp_path: Path) -> None:
    state: dict[str, Any] = {}

    async def scenario(pilot: Pilot[Any], seen: list[Message]) -> None:
        await ask(pilot, "top 5 products by revenue")
        svg = pilot.app.save_screenshot(path=str(tmp_path), filename="tui.svg")
        state["svg"] = Path(svg).read_text()
        await pilot.press("f1")
        state["help"] = isinstance(pilot.app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+n")
        await pilot.pause()
        state["after_new"] = (pilot.app.thread_id, len(pilot.app.query(TurnView)))

    drive(scenario)
    svg = state["svg"]
    assert svg.startswith("<svg") and "Headphones" in svg and "SELECT" in svg and "product_name" in svg
    assert state["help"] and state["after_new"] == (None, 0)
