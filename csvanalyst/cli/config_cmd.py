"""`csvanalyst config`: the effective settings and where each came from (no secrets are settings)."""

from __future__ import annotations

from typing import Annotated

import typer


def config(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Show the effective configuration: flag > environment > config file > default."""
    from csvanalyst.cli import render
    from csvanalyst.config import config_file, explain, get_settings

    rows = explain(get_settings())
    if json_out:
        render.print_json({"config_file": str(config_file()), "settings": rows})
        return
    columns = [{"name": n, "type": "VARCHAR"} for n in ("setting", "value", "source")]
    render.print_table(
        columns, [[r["name"], r["value"], r["source"]] for r in rows], footer=f"config file: {config_file()}"
    )
