"""The `csvanalyst` command. Sub-command modules import their heavy dependencies lazily."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, NoReturn

import typer
import typer.main

import csvanalyst.cli.runner_cmd as runner_cmd
import csvanalyst.cli.serve_cmd as serve_cmd
from csvanalyst import __version__
from csvanalyst.cli import (
    ask_cmd,
    chat_cmd,
    config_cmd,
    daemon_cmd,
    datasets_cmd,
    deploy_cmd,
    doctor_cmd,
    eval_cmd,
    python_cmd,
    query_cmd,
    runs_cmd,
    threads_cmd,
)

EXAMPLES = """Examples:

\b
  csvanalyst ask "how many orders per status" -d retail
  csvanalyst ask "and per month?" -c                   # carry on the last thread
  csvanalyst sql "SELECT region, count(*) FROM orders GROUP BY 1" -d retail --format csv
  csvanalyst ask "average amount by region" --file sales.csv --chart chart.svg
  csvanalyst chat -d retail                             # the terminal analyst
  csvanalyst runs show last                             # what the last answer ran
  csvanalyst doctor                                     # what works here, and what to do next
"""

ASK_EXAMPLES = """Examples:

\b
  csvanalyst ask "average satisfaction by channel" -d support
  csvanalyst ask "SQL: SELECT agent, count(*) FROM tickets GROUP BY ALL" -d support --json
  csvanalyst ask "top 5 products by revenue" --file orders.csv --show-sql
  echo "orders per month in 2024" | csvanalyst ask - -d retail --events
"""

SQL_EXAMPLES = """Examples:

\b
  csvanalyst sql "SELECT status, count(*) AS n FROM orders GROUP BY 1" -d retail
  csvanalyst sql "SELECT * FROM sales LIMIT 10" --file sales.csv --format json
  csvanalyst sql - -d retail -o result.csv < query.sql
"""

app = typer.Typer(
    name="csvanalyst",
    help="Answers questions about CSV files. Every query runs in a sandbox and is recorded.",
    epilog=EXAMPLES,
    no_args_is_help=False,
    invoke_without_command=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    show_version: bool = typer.Option(False, "--version", "-V", help="Print the version and exit.", is_eager=True),
) -> None:
    """Answers questions about CSV files. Every query runs in a sandbox and is recorded."""
    if show_version:
        typer.echo(__version__)
        raise typer.Exit(0)
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.config import unknown_config_keys

    for warning in unknown_config_keys():
        note(warning)


app.command("ask", epilog=ASK_EXAMPLES)(ask_cmd.ask)
app.command("chat")(chat_cmd.chat)
app.command("sql", epilog=SQL_EXAMPLES)(query_cmd.sql)
app.command("plan")(query_cmd.plan)
app.command("python")(python_cmd.python)
app.add_typer(datasets_cmd.app, name="datasets")
app.add_typer(runs_cmd.app, name="runs")
app.add_typer(threads_cmd.app, name="threads")
app.add_typer(runner_cmd.app, name="runner")
app.add_typer(deploy_cmd.app, name="deploy")
app.add_typer(daemon_cmd.app, name="daemon")
app.command("doctor")(doctor_cmd.doctor)
app.command("config")(config_cmd.config)
app.command("eval")(eval_cmd.eval_suite)
app.command("serve")(serve_cmd.serve)


@app.command("version")
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


ONE_SHOT_COMMANDS = frozenset({"sql", "plan", "ask", "python", "version"})  # what scripts call once per question


def main(argv: list[str] | None = None, *, exit_process: bool = True) -> None:
    """Entry point: Typer handles usage errors (exit 2); our error tree maps to its documented codes.

    As the console script (`exit_process`), a one-shot command ends the process with `os._exit` once its
    output is flushed and its store closed: the interpreter's teardown of every imported module costs more
    than many queries. Anything else, or an in-process caller that passes exit_process=False, gets the
    usual SystemExit."""
    # pydantic scans every installed distribution for plugins at its first model; we use none. A user's
    # own setting wins, and sandbox children get an environment built from scratch, so nothing leaks there.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = list(sys.argv[1:] if argv is None else argv)
    code = _run(args)
    if exit_process and args and args[0] in ONE_SHOT_COMMANDS:
        leave(code)
    raise SystemExit(code)


def _run(args: list[str]) -> int:
    """Run one command and return its exit code (Typer/click end every command with SystemExit)."""
    try:
        _dispatch(args)
    except SystemExit as done:
        if _reader_left():
            return 0
        return _exit_code(done.code)
    except BrokenPipeError:  # the reader left while an error was being reported
        return 0
    return 0


def _reader_left() -> bool:
    """Click (the copy Typer vendors) ends a command whose stdout reader left (`| head`) with exit 1,
    after swapping stdout for its PacifyFlushWrapper; for us a reader that has all it asked for is no
    error. Matched by name: the class moves between click releases and Typer's vendored copy."""
    return type(sys.stdout).__name__.lstrip("_") == "PacifyFlushWrapper"


def _dispatch(args: list[str]) -> None:
    from csvanalyst.cli import diagnostics
    from csvanalyst.errors import CsvAnalystError, ErrorCode, exit_code_for

    try:
        command = typer.main.get_command(app)
        _name_metavars(command)
        command(args=_help_for_bare_group(command, args), prog_name="csvanalyst")
    except CsvAnalystError as exc:
        diagnostics.exit_with(diagnostics.report(exc))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        diagnostics.exit_with(exit_code_for(ErrorCode.INTERRUPTED))
    except BrokenPipeError:
        diagnostics.exit_with(0)
    except Exception as exc:
        diagnostics.exit_with(diagnostics.internal_error(exc))


def _exit_code(code: object) -> int:
    """SystemExit's code as the process would report it: None is 0, a message goes to stderr as 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def leave(code: int) -> NoReturn:
    """Flush stdout and stderr, run the atexit hooks (pools, exporters), then end without teardown.

    A reader that closed the pipe early (`| head`) loses nothing it asked for; the exit code stays."""
    import atexit

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # reader gone, or stream already closed
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(code)


def _name_metavars(command: Any) -> None:
    """Help shows `--dataset DATASET`, `--format [table|csv|json]`, never Python types like <list[Path]>."""
    for param in command.params:
        if param.metavar is None and not getattr(param, "is_flag", False) and param.name:
            choices = getattr(getattr(param, "type_descriptor", None), "choices", None)
            param.metavar = f"[{'|'.join(map(str, choices))}]" if choices else param.name.upper()
        if param.param_type_name == "argument":
            param.display_type_rich = _no_type  # the name says it: QUESTION, not QUESTION <str>
    for sub in getattr(command, "commands", {}).values():
        _name_metavars(sub)


def _no_type(ctx: Any) -> None:
    return None


def _help_for_bare_group(command: Any, args: list[str]) -> list[str]:
    """`csvanalyst runs` alone shows the group's help and exits 0, like a bare `csvanalyst`."""
    current = command
    for token in args:
        sub = getattr(current, "commands", {}).get(token)
        if sub is None:
            return args
        current = sub
    return [*args, "--help"] if args and getattr(current, "commands", None) else args
