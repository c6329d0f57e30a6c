"""`csvanalyst eval`: a suite's questions through the Session, scored by execution match; or two reports compared."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from csvanalyst.cli.ask_cmd import Provider
from csvanalyst.cli.options import SandboxOpt, TimeoutOpt, TraceOpt, settings_with


def eval_suite(
    suite: Annotated[
        str | None, typer.Argument(help="A suite .jsonl file, or a shipped suite's name (e.g. demo).")
    ] = None,
    provider: Annotated[Provider, typer.Option("--provider", help="Which model answers.")] = Provider.auto,
    model: Annotated[str | None, typer.Option("--model", help="Model name for the provider.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", help="Questions asked at once.", min=1)] = 4,
    json_out: Annotated[bool, typer.Option("--json", help="Print the full report as JSON.")] = False,
    markdown_out: Annotated[bool, typer.Option("--markdown", help="Print the report as Markdown.")] = False,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option("--compare", help="Compare two reports written by --json (A then B) instead of running."),
    ] = None,
    sandbox: SandboxOpt = None,
    timeout: TimeoutOpt = None,
    trace: TraceOpt = None,
) -> None:
    """Measure answer quality: accuracy overall and by kind, declines, model calls, tokens, cost and latency."""
    from csvanalyst.cli import render
    from csvanalyst.errors import UsageError

    if json_out and markdown_out:
        raise UsageError("--json and --markdown are alternatives.", hint="Pick one output format.")
    if compare is not None:
        _compare(compare, json_out)
        return
    if suite is None:
        raise UsageError("No suite given.", hint="Run `csvanalyst eval demo`, or give a suite .jsonl file.")
    report = _run(
        suite, provider.value, model, concurrency, settings_with(timeout=timeout, sandbox=sandbox, trace=trace)
    )
    if json_out:
        render.print_json(report)
    elif markdown_out:
        from csvanalyst.evaluation.report import markdown

        typer.echo(markdown(report), nl=False)
    else:
        _print_table(report)


def _run(suite: str, provider: str, model: str | None, concurrency: int, settings: Any) -> dict[str, Any]:
    from csvanalyst.cli.diagnostics import note
    from csvanalyst.core.session import Session
    from csvanalyst.evaluation import suite as suites
    from csvanalyst.evaluation.report import summarize
    from csvanalyst.evaluation.runner import run_suite

    path, cases = suites.load(suite)
    with Session(settings=settings, provider=provider, model=model, keep_warm=True) as session:
        note(f"{len(cases)} question(s) from {path.name}, {concurrency} at a time, {session.client.provider}")
        results = run_suite(cases, session, concurrency=concurrency)
        report = summarize(results, suite=path.stem, provider=session.client.provider, model=session.client.model)
    if settings.mlflow_enabled:
        from csvanalyst.evaluation.mlflow_log import log_evaluation

        run_id = log_evaluation(report, settings)
        if run_id:
            note(f"evaluation logged to MLflow run {run_id}")
    return report


def _print_table(report: dict[str, Any]) -> None:
    from csvanalyst.cli import render
    from csvanalyst.evaluation.report import SUMMARY_COLUMNS, summary_rows

    columns = [{"name": n, "type": "VARCHAR"} for n in SUMMARY_COLUMNS]
    overall = report["overall"]
    footer = (
        f"{report['suite']} · {report['provider']} ({report['model']}) · "
        f"{overall['right']}/{overall['questions']} right ({overall['accuracy']:.1%})"
    )
    render.print_table(columns, summary_rows(report), footer=footer)
    misses = [c for c in report["cases"] if c["verdict"] != "right"]
    if misses:
        columns = [{"name": n, "type": "VARCHAR"} for n in ("case", "verdict", "reason")]
        render.print_table(columns, [[c["id"], c["verdict"], c["reason"]] for c in misses])


def _compare(paths: tuple[Path, Path], json_out: bool) -> None:
    from csvanalyst.cli import render
    from csvanalyst.evaluation.report import compare, load_report

    diff = compare(load_report(paths[0]), load_report(paths[1]))
    if json_out:
        render.print_json(diff)
        return

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    columns = [{"name": n, "type": "VARCHAR"} for n in ("kind", "A", "B", "change")]
    rows = [
        [kind, pct(a), pct(b), "-" if a is None or b is None else f"{(b - a) * 100:+.1f} pts"]
        for kind, (a, b) in diff["accuracy"].items()
    ]
    a, b = diff["before"], diff["after"]
    label = f"A: {a['provider']} ({a['model']})  B: {b['provider']} ({b['model']})"
    render.print_table(columns, rows, footer=label)
    if diff["changed"]:
        columns = [{"name": n, "type": "VARCHAR"} for n in ("case", "A", "B", "question")]
        render.print_table(columns, [[c["id"], c["before"], c["after"], c["question"]] for c in diff["changed"]])
