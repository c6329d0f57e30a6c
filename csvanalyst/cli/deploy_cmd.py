"""`csvanalyst deploy image|check`: the application image for running the server in a cluster."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="The application image (`csvanalyst serve`): build it, check it.", no_args_is_help=True)


@app.command("image")
def image(
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Also tag it so, e.g. registry.example.com/csvanalyst:0.1.0.")
    ] = None,
) -> None:
    """Build the application image offline (same Debian base as the runner image); prints its tag."""
    from csvanalyst.deploy import app_image
    from csvanalyst.executors.docker.executor import connect

    report = app_image.build(connect(), tuple(tag or ()), lambda msg: typer.echo(f"… {msg}", err=True))
    how = "cached" if report["cached"] else "built"
    typer.echo(f"{how} in {report['total_s']} s, {report['size_mb']} MB", err=True)
    typer.echo(report["tag"])


@app.command("check")
def check(
    image: Annotated[
        str | None, typer.Option("--image", help="Image to check (default: csvanalyst-app:latest).")
    ] = None,
) -> None:
    """Start the image read-only as uid 10001 with no capabilities and check /healthz and /readyz."""
    from csvanalyst.cli.runner_cmd import report_checks
    from csvanalyst.deploy import app_check, app_image
    from csvanalyst.executors.docker.executor import connect

    name = image or f"{app_image.IMAGE_REPO}:latest"
    report_checks(
        app_check.check(connect(), name),
        f"The application image {name}",
        "Rebuild it with `csvanalyst deploy image`, then run `csvanalyst doctor` inside it.",
    )
    typer.echo(f"{name}: all checks passed")
