"""The `csvanalyst` command. Sub-command modules import their heavy dependencies lazily."""

from __future__ import annotations

import sys

import typer

import csvanalyst.cli.runner_cmd as runner_cmd
import csvanalyst.cli.serve_cmd as serve_cmd
from csvanalyst import __version__
from csvanalyst.cli import (
    ask_cmd,
    chat_cmd,
    config_cmd,
    datasets_cmd,
    deploy_cmd,
    doctor_cmd,
    python_cmd,
    query_cmd,
    runs_cmd,
    threads_cmd,
)

app = typer.Typer(
    name="csvanalyst",
    help="Answers questions about CSV files. Every query runs in a sandbox and is recorded.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.command("ask")(ask_cmd.ask)
app.command("chat")(chat_cmd.chat)
app.command("sql")(query_cmd.sql)
app.command("plan")(query_cmd.plan)
app.command("python")(python_cmd.python)
app.add_typer(datasets_cmd.app, name="datasets")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(threads_cmd.app, name="threads")
app.add_typer(runner_cmd.app, name="runner")
app.add_typer(deploy_cmd.app, name="deploy")
app.command("doctor")(doctor_cmd.doctor)
app.command("config")(config_cmd.config)
app.command("serve")(serve_cmd.serve)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main(argv: list[str] | None = None) -> None:
    """Entry point: Typer handles usage errors (exit 2); our error tree maps to its documented codes."""
    from csvanalyst.cli import diagnostics
    from csvanalyst.errors import CsvAnalystError, ErrorCode, exit_code_for

    try:
        app(args=argv, prog_name="csvanalyst")
    except CsvAnalystError as exc:
        diagnostics.exit_with(diagnostics.report(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        diagnostics.exit_with(exit_code_for(ErrorCode.INTERRUPTED))
    except BrokenPipeError:
        diagnostics.exit_with(0)
    except Exception as exc:
        diagnostics.exit_with(diagnostics.internal_error(exc))
