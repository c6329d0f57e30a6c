"""`csvanalyst serve`: the REST + SSE API and the web page, over the same Session as the CLI."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from csvanalyst.cli.ask_cmd import Provider
from csvanalyst.cli.options import SandboxOpt, TimeoutOpt, TraceOpt, settings_with


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", "-p", help="TCP port (0 picks a free one).", min=0, max=65535)] = 8000,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="CSVANALYST_TOKEN", help="Require `Authorization: Bearer TOKEN` on the API."),
    ] = None,
    insecure: Annotated[bool, typer.Option("--insecure", help="Allow a non-loopback address without a token.")] = False,
    cors_origin: Annotated[
        list[str] | None, typer.Option("--cors-origin", help="Allow this browser origin (repeatable); off by default.")
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option("--allowed-host", help="Also answer to this Host name (repeatable; '*' for any)."),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option("--header-timeout", help="Seconds a client may take to send a request's headers.", min=0.1)
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option("--body-timeout", help="Seconds a client may take to send a request's body.", min=0.1)
    ] = 120.0,
    max_runs: Annotated[int, typer.Option("--max-runs", help="Sandbox runs at once.", min=1)] = 4,
    max_queue: Annotated[int, typer.Option("--max-queue", help="Requests waiting beyond that (then 429).", min=0)] = 64,
    max_upload_mb: Annotated[int, typer.Option("--max-upload-mb", help="Largest CSV upload.", min=1)] = 200,
    provider: Annotated[Provider, typer.Option("--provider", help="Which model answers.")] = Provider.auto,
    model: Annotated[str | None, typer.Option("--model", help="Model name for the provider.")] = None,
    sandbox: SandboxOpt = None,
    timeout: TimeoutOpt = None,
    trace: TraceOpt = None,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error.")] = "info",
    grace: Annotated[
        int, typer.Option("--grace", help="Seconds open requests get to end after SIGTERM (turns are stopped).", min=1)
    ] = 20,
) -> None:
    """Serve the API (OpenAPI at /docs) and the web page at http://HOST:PORT/."""
    import uvicorn

    from csvanalyst.observability.logs import configure
    from csvanalyst.server.app import create_app
    from csvanalyst.server.auth import check_bind
    from csvanalyst.server.limits import ServerLimits
    from csvanalyst.server.timeouts import IDLE_TIMEOUT_S, bounded_protocol

    check_bind(host, token, insecure)
    configure(log_level)
    limits = ServerLimits(max_runs=max_runs, max_queue=max_queue, max_upload_bytes=max_upload_mb * 1024 * 1024)
    app = create_app(
        settings=settings_with(timeout=timeout, sandbox=sandbox, trace=trace),
        token=token,
        limits=limits,
        provider=provider.value,
        model=model,
        cors_origins=tuple(cors_origin or ()),
        bound_host=host,
        allowed_hosts=tuple(allowed_host or ()),
    )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=grace,
        http=bounded_protocol(header_timeout, body_timeout),
        timeout_keep_alive=IDLE_TIMEOUT_S,
    )
    server = uvicorn.Server(config)
    _stop_turns_on_exit(server)
    server.run()


def _stop_turns_on_exit(server: Any) -> None:
    """On SIGTERM/SIGINT, besides no longer accepting connections, stop every turn in flight so each
    open stream ends with `error` + `done` and its run is recorded cancelled within the grace period."""
    from csvanalyst.server.sse import stop_all_turns

    exit_handler = server.handle_exit

    def handle_exit(sig: int, frame: Any) -> None:
        stop_all_turns()
        exit_handler(sig, frame)

    server.handle_exit = handle_exit
