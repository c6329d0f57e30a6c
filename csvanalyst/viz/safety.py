"""Chart specs from runs and models carry inline data only: nothing in them may make a renderer fetch.

A spec is rendered on the host (vl-convert for `--chart x.svg`) and in the user's browser (the web
page). Vega and Vega-Lite load whatever a `url` names (data, lookups, images) and follow `href`
links; `usermeta` can carry embed options such as a custom loader. Every such key is removed, at
any depth, and `image` marks (whose only purpose is to load a URL) become plain points, so a hostile
spec at worst draws an empty or different chart and never reaches the network or a file.
"""

from __future__ import annotations

from typing import Any

FETCHING_KEYS = frozenset({"url", "href", "usermeta", "loader", "baseURL"})
FETCHING_MARKS = frozenset({"image"})
SAFE_MARK = "point"


def inline_only(spec: Any) -> Any:
    """A copy of `spec` with every key that can fetch removed and every image mark made a point."""
    if isinstance(spec, dict):
        cleaned = {key: inline_only(value) for key, value in spec.items() if key not in FETCHING_KEYS}
        return _without_image_mark(cleaned)
    if isinstance(spec, list):
        return [inline_only(item) for item in spec]
    return spec


def _without_image_mark(node: dict[str, Any]) -> dict[str, Any]:
    mark = node.get("mark")
    if isinstance(mark, str) and mark in FETCHING_MARKS:
        node["mark"] = SAFE_MARK
    elif isinstance(mark, dict) and mark.get("type") in FETCHING_MARKS:
        node["mark"] = {**mark, "type": SAFE_MARK}
    if node.get("type") in FETCHING_MARKS and "encode" in node:  # a Vega (not Vega-Lite) mark
        node["type"] = "symbol"
    return node
