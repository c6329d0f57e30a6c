"""`csvanalyst doctor`: what is configured and usable here, and why not when it is not."""

from __future__ import annotations

from typing import Annotated, Any

import typer


def doctor(json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Report model providers (keys masked), sandboxes and the store."""
    report = {"providers": _providers(), "sandboxes": _sandboxes(), "store": _store()}
    if json_out:
        from csvanalyst.cli import render

        render.print_json(report)
        return
    _print(report)


def _providers() -> list[dict[str, Any]]:
    from csvanalyst.llm.factory import describe_providers

    return describe_providers()


def _sandboxes() -> list[dict[str, Any]]:
    from csvanalyst.executors.local import available_modes

    rows = []
    from csvanalyst.executors.isolation import PROMISES

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
        from csvanalyst.executors import docker as docker_backend
        from csvanalyst.executors import docker_image

        client = docker_backend.connect()
        tag = docker_image.image_tag()
        docker_backend.require_image(client, tag)
    except CsvAnalystError as exc:
        return {"sandbox": "docker", "usable": False, "detail": f"{exc.message} {exc.hint}".strip()}
    return {"sandbox": "docker", "usable": True, "detail": f"image {tag}"}


def _diagnosed(name: str) -> dict[str, Any]:
    """A backend that checks itself: `diagnose()` returns (usable, why) without raising."""
    import importlib

    module = importlib.import_module(f"csvanalyst.executors.{name}")
    usable, detail = module.diagnose()
    return {"sandbox": name, "usable": usable, "detail": detail}


def _store() -> dict[str, Any]:
    from csvanalyst.config import get_settings
    from csvanalyst.errors import CsvAnalystError
    from csvanalyst.store.db import connect

    settings = get_settings()
    try:
        db = connect(settings.store_path)
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
        db.close()
    except CsvAnalystError as exc:
        return {"path": str(settings.store_path), "healthy": False, "detail": exc.message}
    return {"path": str(settings.store_path), "healthy": check == "ok", "detail": check, "runs": runs}


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console

    from csvanalyst.markup import escape

    console = Console(highlight=False)
    console.print("[bold]Model providers[/]")
    for p in report["providers"]:
        mark = "[green]✓[/]" if p.get("configured") else "[dim]·[/]"
        details = ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("provider", "configured") and v)
        console.print(f"  {mark} {p['provider']:10s} {escape(details)}")
    console.print("[bold]Sandboxes[/]")
    for s in report["sandboxes"]:
        mark = "[green]✓[/]" if s["usable"] else "[red]✗[/]"
        console.print(f"  {mark} {s['sandbox']:22s} {escape(s['detail'])}")
    store = report["store"]
    mark = "[green]✓[/]" if store["healthy"] else "[red]✗[/]"
    console.print(f"[bold]Store[/]\n  {mark} {escape(store['path'])} ({escape(str(store['detail']))})")
