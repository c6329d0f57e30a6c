"""`csvanalyst chat`: the terminal analyst, a Textual app over the same Session as `ask`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from csvanalyst.cli.ask_cmd import Provider
from csvanalyst.cli.options import (
    DatasetOpt,
    FileOpt,
    SandboxOpt,
    TimeoutOpt,
    TraceOpt,
    reader_options,
    settings_with,
)

if TYPE_CHECKING:
    from csvanalyst.catalog.reader import ReaderOptions

DEFAULT_DATASET = "retail"


@reader_options
def chat(
    dataset: DatasetOpt = None,
    file: FileOpt = None,
    thread: Annotated[str | None, typer.Option("--thread", "-t", help="Reopen this thread.")] = None,
    provider: Annotated[Provider, typer.Option("--provider", help="Which model answers.")] = Provider.auto,
    model: Annotated[str | None, typer.Option("--model", help="Model name for the provider.")] = None,
    sandbox: SandboxOpt = None,
    timeout: TimeoutOpt = None,
    trace: TraceOpt = None,
    *,
    reader: ReaderOptions,
) -> None:
    """Open the terminal analyst (default dataset: retail, the demo)."""
    from csvanalyst.core.query import DataScope
    from csvanalyst.core.session import Session
    from csvanalyst.errors import UsageError

    if dataset and file:
        raise UsageError("Give either a dataset (-d) or files (--file), not both.")
    files = tuple(file or ())
    scope = DataScope(dataset=None if files else dataset or DEFAULT_DATASET, files=files, reader=reader)
    from csvanalyst.cli.ingest_progress import ingest_progress

    with ingest_progress():
        scope.resolve()  # a wrong name or file is a clear error before the screen opens
    settings = settings_with(timeout=timeout, sandbox=sandbox, trace=trace)
    from csvanalyst.tui.app import AnalystApp

    with Session(settings=settings, provider=provider.value, model=model, keep_warm=True) as session:
        AnalystApp(session, scope, thread_id=thread).run()
