"""Rendering Vega-Lite specs to files (PNG/SVG with vl-convert, offline) and to the terminal (plotext)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from csvanalyst.errors import EnvironmentProblem, UsageError

NO_URLS: list[str] = []  # vl-convert's allow-list of base URLs: empty, so nothing is fetched


def render_bytes(spec: dict[str, Any], fmt: str) -> bytes:
    """PNG or SVG bytes of a spec; vl-convert bundles Vega, so no network is needed, and none is allowed:
    the spec is reduced to inline data and vl-convert may load from no URL at all."""
    from csvanalyst.viz.safety import inline_only

    spec = inline_only(spec)
    try:
        import vl_convert as vlc
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise EnvironmentProblem("vl-convert is not installed.", hint="pip install vl-convert-python") from exc
    if fmt == "png":
        return vlc.vegalite_to_png(spec, scale=2, allowed_base_urls=NO_URLS)
    if fmt == "svg":
        return vlc.vegalite_to_svg(spec, allowed_base_urls=NO_URLS).encode()
    raise UsageError(f"Cannot save a chart as .{fmt}.", hint="Use a .png or .svg file name.")


def save_chart(spec: dict[str, Any], path: Path) -> None:
    from csvanalyst.core.export import write_atomic_bytes

    fmt = path.suffix.lower().lstrip(".")
    write_atomic_bytes(path, render_bytes(spec, fmt))
