"""Rendering a turn's events in the terminal: live (rich), as NDJSON, or as one JSON document."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, Literal

from csvanalyst.events import Event


def render_events(
    events: Iterable[Event], *, mode: Literal["live", "events", "json"], show_sql: bool = False
) -> dict[str, Any]:
    from csvanalyst.cli.ask_cmd import events_summary

    seen: list[Event] = []
    live = _LiveRenderer(show_sql=show_sql) if mode == "live" else None
    for event in events:
        seen.append(event)
        if mode == "events":
            sys.stdout.write(event.model_dump_json() + "\n")
            sys.stdout.flush()
        elif live is not None:
            live.show(event)
    summary = events_summary(seen)
    if mode == "json":
        import json

        public = {k: v for k, v in summary.items() if k != "error_code"}
        sys.stdout.write(json.dumps(public, ensure_ascii=False, default=str) + "\n")
    return summary


class _LiveRenderer:
    """Human output: results and the answer on stdout, progress and problems on stderr."""

    def __init__(self, *, show_sql: bool) -> None:
        from rich.console import Console

        from csvanalyst.cli.render import stdout_console

        self.out = stdout_console()
        self.err = Console(stderr=True, highlight=False)
        self.show_sql = show_sql

    def show(self, event: Event) -> None:
        from csvanalyst.markup import escape

        handler = getattr(self, f"_on_{event.type}", None)
        if handler is not None:
            handler(event, escape)

    def _on_status(self, event: Any, escape: Any) -> None:
        self.err.print(f"[dim]… {escape(event.message)}[/]")

    def _on_tool_call(self, event: Any, escape: Any) -> None:
        self.err.print(f"[dim]→ {escape(event.name)}[/]")

    def _on_sql_compiled(self, event: Any, escape: Any) -> None:
        if self.show_sql:
            from csvanalyst.cli.render import print_sql

            print_sql(self.out, event.sql)

    def _on_run_finished(self, event: Any, escape: Any) -> None:
        from csvanalyst.cli.render import print_table

        truncated = " (truncated)" if event.truncated else ""
        shown = "" if len(event.rows) >= event.row_count else f", first {len(event.rows)} shown"
        footer = f"{event.row_count} row(s){truncated}{shown} · run {event.run_id}"
        print_table(event.columns, event.rows, footer=footer)

    def _on_answer(self, event: Any, escape: Any) -> None:
        self.out.print(f"\n[bold]{escape(event.text)}[/]")
        if not event.grounded:
            self.err.print("[yellow]note:[/] some numbers in this answer were not found in any result; check the runs.")

    def _on_error(self, event: Any, escape: Any) -> None:
        label = "retrying after" if event.retryable else "error"
        self.err.print(f"[red]{label}[/] [dim]({escape(event.code)})[/]: {escape(event.message)}")
        if event.hint:
            self.err.print(f"  [bold]hint:[/] {escape(event.hint)}")

    def _on_usage(self, event: Any, escape: Any) -> None:
        if event.input_tokens or event.output_tokens:
            cost = "" if event.cost_usd is None else f" · ${event.cost_usd:.4f}"
            self.err.print(f"[dim]{event.input_tokens} in / {event.output_tokens} out tokens{cost}[/]")
