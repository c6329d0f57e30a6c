"""Regenerate the vendored chart bundle (vega-embed + vega-lite + vega) without any network access.

`python -m csvanalyst.server.vendor` rewrites static/vendor/vega-embed.js from the copy inside
vl-convert, so the web page renders charts offline and never loads code from a CDN.
"""

from __future__ import annotations

from pathlib import Path

BUNDLE = Path(__file__).parent / "static" / "vendor" / "vega-embed.js"


def write_bundle(path: Path = BUNDLE) -> int:
    import vl_convert

    from csvanalyst.core.export import write_atomic

    text = vl_convert.javascript_bundle()  # type: ignore[call-arg]  # the stub misses the default snippet=None
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text)
    return len(text)


if __name__ == "__main__":
    print(f"wrote {write_bundle():,} characters to {BUNDLE}")
