"""Tool schemas a small model can read: no `$ref`, no `title`, no `null` branches, `anyOf` for `oneOf`,
every field described.

Some OpenAI-compatible servers drop nested `$defs` and references, and every `title` or `anyOf [X, null]`
costs tokens on every request. A recursive definition (an expression inside an expression) is inlined
once and then described in words.
"""

from __future__ import annotations

from typing import Any

_DROP = frozenset({"title", "$defs", "additionalProperties", "default"})


def flat_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every `$ref` inlined (recursion cut after one level) and the noise removed."""
    flat: dict[str, Any] = _flat(schema, schema.get("$defs", {}), ())
    return flat


def _flat(node: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_flat(item, defs, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = defs.get(name, {})
        if stack.count(name) >= 1:
            return {"type": "object", "description": f"a nested {name} object of the same shape"}
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _flat(merged, defs, (*stack, name))
    out = {("anyOf" if k == "oneOf" else k): _flat(v, defs, stack) for k, v in node.items() if k not in _DROP}
    out.pop("discriminator", None)
    branches = out.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            out.pop("anyOf")
            out = {**kept[0], **out}
        elif len(kept) < len(branches):
            out["anyOf"] = kept
    return out


def undescribed(schema: dict[str, Any], path: str = "") -> list[str]:
    """Paths of properties that have no description: a model would have to guess what they mean."""
    missing = []
    for name, prop in (schema.get("properties") or {}).items():
        where = f"{path}.{name}" if path else name
        if not prop.get("description"):
            missing.append(where)
        missing += undescribed(prop, where)
        for branch in prop.get("anyOf", []):
            missing += undescribed(branch, where)
        items = prop.get("items")
        if isinstance(items, dict):
            missing += undescribed(items, f"{where}[]")
            for branch in items.get("anyOf", []):
                missing += undescribed(branch, f"{where}[]")
    return missing
