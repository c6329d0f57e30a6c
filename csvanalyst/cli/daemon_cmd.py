"""`csvanalyst daemon status|stop`: the warm background worker that one-shot commands go through."""

from __future__ import annotations

import json
from typing import Annotated

import typer

app = typer.Typer(help="The warm background worker behind sql, ask and plan (docs/daemon.md).", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


@app.command("status")
def status(json_out: JsonOpt = False) -> None:
    """Whether the worker runs for this home, its pid, version, uptime and requests served."""
    from csvanalyst.config import get_settings
    from csvanalyst.daemon import control

    info = control.status(get_settings().home)
    if json_out:
        typer.echo(json.dumps(info, indent=2))
    elif info["running"]:
        typer.echo(
            f"running: pid {info['pid']}, version {info['version']}, up {info['uptime_s']:g} s, "
            f"{info['requests']} request(s), {info['active']} in progress, "
            f"stops after {info['idle_timeout_s']:g} s idle\nsocket: {info['socket']}"
        )
    else:
        typer.echo(f"not running (socket {info['socket']})")


@app.command("stop")
def stop(json_out: JsonOpt = False) -> None:
    """Stop the worker; the next command runs in its own process and starts a fresh one."""
    from csvanalyst.config import get_settings
    from csvanalyst.daemon import control
    from csvanalyst.errors import EnvironmentProblem

    result = control.stop(get_settings().home)
    if json_out:
        typer.echo(json.dumps(result, indent=2))
    elif result["stopped"]:
        typer.echo(f"stopped (pid {result['pid']}{', forced' if result['forced'] else ''})")
    elif not result.get("running"):
        typer.echo("not running" + (" (removed a stale socket)" if result.get("stale_socket_removed") else ""))
    if result.get("running"):
        raise EnvironmentProblem(
            f"The background worker (pid {result['pid']}) did not stop.", hint=f"Kill it: kill -9 {result['pid']}."
        )
