"""The only place that turns errors into stderr text and exit codes.

Exit codes are part of the interface (docs/exit-codes.md documents them): scripts rely on them.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import TYPE_CHECKING, NoReturn

from csvanalyst.errors import CsvAnalystError, ErrorCode, exit_code_for

if TYPE_CHECKING:
    from rich.console import Console


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def report(exc: CsvAnalystError) -> int:
    """Print one error paragraph (message, hint, run id if any) and return its exit code."""
    from csvanalyst.markup import escape

    console = _stderr_console()
    console.print(f"[bold red]error[/] [dim]({exc.code})[/]: {escape(exc.message)}")
    if exc.hint:
        console.print(f"  [bold]hint:[/] {escape(exc.hint)}")
    run_id = getattr(exc, "run_id", None)
    if run_id:
        console.print(f"  [dim]run {run_id} recorded; see `csvanalyst runs show {run_id}`[/]")
    return exc.exit_code


def note(message: str) -> None:
    """A diagnostic line for humans (never on stdout, which is for results)."""
    from csvanalyst.markup import escape

    _stderr_console().print(f"[yellow]note:[/] {escape(message)}")


def internal_error(exc: BaseException) -> int:
    from csvanalyst.markup import escape

    console = _stderr_console()
    console.print(f"[bold red]internal error[/]: {type(exc).__name__}: {escape(str(exc))}")
    if os.environ.get("CSVANALYST_DEBUG"):
        traceback.print_exc(file=sys.stderr)
    else:
        console.print("  [bold]hint:[/] this is a bug; rerun with CSVANALYST_DEBUG=1 for the traceback and report it.")
    return exit_code_for(ErrorCode.INTERNAL)


def turn_exit_code(status: str, error_code: str | None, ran: bool) -> int:
    """An `ask` turn's exit code, from its `done` status and the code of its last error, if any."""
    if status == "answered":
        return 0
    if status == "declined":
        return exit_code_for(ErrorCode.NOT_ANSWERED)
    if status == "cancelled":
        return exit_code_for(ErrorCode.CANCELLED)
    if error_code:
        return exit_code_for(error_code)
    return exit_code_for(ErrorCode.QUERY_FAILED if ran else ErrorCode.INTERNAL)


def exit_with(code: int) -> NoReturn:
    sys.stdout.flush()
    raise SystemExit(code)
