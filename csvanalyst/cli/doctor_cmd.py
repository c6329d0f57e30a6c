"""`csvanalyst doctor`: what is configured and usable here, and why not when it is not."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import typer


def doctor(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    fix: Annotated[
        bool, typer.Option("--fix", help="Also remove what crashed processes left on this home (their owners gone).")
    ] = False,
) -> None:
    """Report model providers (keys masked), sandboxes and the store."""
    report: dict[str, Any] = {"providers": _providers(), "sandboxes": _sandboxes(), "store": _store()}
    report["model_server"] = _model_server()
    report["next_steps"] = next_steps(report)
    if fix:
        report["fixed"] = _fix()
    if json_out:
        from csvanalyst.cli import render

        render.print_json(report)
        return
    _print(report)


def next_steps(report: dict[str, Any]) -> list[str]:
    """What to do now, from what the checks found: the first thing to fix, then the first thing to try."""
    steps = []
    store = report["store"]
    if not store["healthy"]:
        steps.append(f"The store failed its check ({store['detail']}): move {store['path']} aside and run again.")
    if not any(p["configured"] for p in report["providers"] if p["provider"] != "offline"):
        steps.append(
            "Questions are answered by the offline rule planner. For a language model, set OPENAI_API_KEY or "
            "ANTHROPIC_API_KEY, or OPENAI_BASE_URL for a local OpenAI-compatible server (Ollama, vLLM)."
        )
    server = report.get("model_server") or {}
    if server.get("warning"):
        steps.append(server["warning"])
    docker = next((s for s in report["sandboxes"] if s["sandbox"] == "docker"), None)
    if docker is not None and not docker["usable"] and "image" in docker["detail"].lower():
        steps.append("For the container sandbox, build its runner image: csvanalyst runner build")
    steps.append('Try it: csvanalyst ask "how many orders per status" -d retail   (or --file your.csv)')
    return steps


def _providers() -> list[dict[str, Any]]:
    from csvanalyst.llm.factory import describe_providers

    return describe_providers()


def _model_server() -> dict[str, Any] | None:
    from csvanalyst.config import get_settings
    from csvanalyst.core.context_check import context_window_report

    return context_window_report(get_settings())


def _sandboxes() -> list[dict[str, Any]]:
    from csvanalyst.executors.local.executor import available_modes

    rows = []
    from csvanalyst.executors.local.isolation import PROMISES

    for mode, problem in available_modes().items():
        detail = f"ok: {PROMISES[mode].summary()}" if problem is None else problem
        rows.append({"sandbox": f"local ({mode})", "usable": problem is None, "detail": detail})
    rows.append(_docker())
    rows.extend(_diagnosed(name) for name in ("kubernetes", "microsandbox"))
    return rows


def _docker() -> dict[str, Any]:
    """Usable when the daemon answers and the runner image of this version is built."""
    from csvanalyst.errors import CsvAnalystError

    try:
        from csvanalyst.executors.docker import executor as docker_backend
        from csvanalyst.executors.docker import image as docker_image

        tag = docker_image.image_tag()
        with contextlib.closing(docker_backend.connect()) as client:
            docker_backend.require_image(client, tag)
    except CsvAnalystError as exc:
        return {"sandbox": "docker", "usable": False, "detail": f"{exc.message} {exc.hint}".strip()}
    return {"sandbox": "docker", "usable": True, "detail": f"image {tag}"}


def _diagnosed(name: str) -> dict[str, Any]:
    """A backend that checks itself: `diagnose()` returns (usable, why) without raising."""
    import importlib

    module = importlib.import_module(f"csvanalyst.executors.{name}.executor")
    usable, detail = module.diagnose()
    return {"sandbox": name, "usable": usable, "detail": detail}


def _store() -> dict[str, Any]:
    from csvanalyst.config import get_settings
    from csvanalyst.core.records import Records
    from csvanalyst.errors import CsvAnalystError

    settings = get_settings()
    try:
        health = Records(settings, readonly=True).health()
    except CsvAnalystError as exc:
        return {"path": str(settings.store_path), "healthy": False, "detail": exc.message}
    return {
        "path": str(settings.store_path),
        "healthy": health.check == "ok",
        "detail": health.check,
        "runs": health.runs,
    }


def _fix() -> dict[str, Any]:
    """Sweep crash leftovers: interrupted runs, partial caches, orphaned uploads, scratch, containers."""
    from csvanalyst.catalog.sweep import sweep_home
    from csvanalyst.config import get_settings
    from csvanalyst.core.records import repair_interrupted_runs
    from csvanalyst.errors import CsvAnalystError
    from csvanalyst.executors.local.executor import sweep_stale_scratch

    runs = repair_interrupted_runs(get_settings().store_path)
    swept = sweep_home()
    fixed: dict[str, Any] = {"interrupted_runs": runs, "paths": swept.paths + sweep_stale_scratch()}
    fixed["bytes"] = swept.bytes
    try:
        from csvanalyst.executors.docker import executor as docker_backend

        with contextlib.closing(docker_backend.connect()) as client:
            fixed["containers"] = docker_backend.sweep_orphans(client)
    except CsvAnalystError:
        fixed["containers"] = 0  # no daemon here: no containers to reclaim
    return fixed


def _print(report: dict[str, Any]) -> None:
    from csvanalyst.cli.render import stdout_console
    from csvanalyst.markup import escape

    console = stdout_console()
    console.print("[bold]Model providers[/]")
    for p in report["providers"]:
        mark = "[green]✓[/]" if p.get("configured") else "[dim]·[/]"
        details = ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("provider", "configured") and v)
        console.print(f"  {mark} {p['provider']:10s} {escape(details)}")
    server = report.get("model_server")
    if server is not None:
        window = server.get("context_window")
        mark = "[yellow]![/]" if server.get("warning") else "[green]✓[/]"
        size = f"context window {window} tokens" if window else "context window not determined"
        need = (
            f", first request about {server['first_request_tokens']} tokens" if "first_request_tokens" in server else ""
        )
        console.print(f"[bold]Local model server[/]\n  {mark} {escape(server['server'])}: {size}{need}")
        console.print(f"    [dim]{escape(str(server.get('source', '')))}[/]")
    console.print("[bold]Sandboxes[/]")
    for s in report["sandboxes"]:
        mark = "[green]✓[/]" if s["usable"] else "[red]✗[/]"
        console.print(f"  {mark} {s['sandbox']:22s} {escape(s['detail'])}")
    store = report["store"]
    mark = "[green]✓[/]" if store["healthy"] else "[red]✗[/]"
    console.print(f"[bold]Store[/]\n  {mark} {escape(store['path'])} ({escape(str(store['detail']))})")
    console.print("[bold]Next[/]")
    for step in report["next_steps"]:
        console.print(f"  → {escape(step)}")
    if "fixed" in report:
        fixed = report["fixed"]
        console.print(
            f"[bold]Fixed[/]\n  {fixed['interrupted_runs']} interrupted run(s) marked, {fixed['paths']} leftover(s)"
            f" removed ({fixed['bytes']:,} bytes), {fixed['containers']} orphaned container(s) removed"
        )
