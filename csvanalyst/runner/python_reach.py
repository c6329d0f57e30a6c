"""Closing what the AST check cannot see: attribute reads that land on a module, and string dispatch.

The AST check judges names as written; it cannot know that `re.enum.bltns` is the real builtins
module (a plain attribute chain through module re-exports), nor that `df.agg('eval', ...)` calls
`DataFrame.eval` by name. So, inside the sandboxed child only:
- every attribute read in the snippet becomes a call to `__guarded_getattr__`, which refuses a result
  that is a module outside the import allowlist (the snippet cannot write that name: dunders are
  refused before the rewrite);
- pandas' string evaluators (`DataFrame.eval`, `DataFrame.query`, `pandas.eval`) are replaced by a
  refusal in this disposable process, so no path by name reaches them.
The OS sandbox around the process is still the boundary; this keeps the friendly layer honest.
"""

from __future__ import annotations

import ast
import types
from typing import Any

GETATTR_NAME = "__guarded_getattr__"
STRING_EVALUATORS = ("eval", "query")


class ReachRefused(AttributeError):
    """An attribute read the restricted mode refuses at runtime."""


def guarded_getattr(allowed_roots: frozenset[str]) -> Any:
    def read(obj: Any, name: str) -> Any:
        value = getattr(obj, name)
        if isinstance(value, types.ModuleType) and value.__name__.split(".")[0] not in allowed_roots:
            raise ReachRefused(
                f"Reaching the module {value.__name__!r} through the attribute {name!r} is not allowed "
                "in restricted Python"
            )
        return value

    return read


class _AttributeReads(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if not isinstance(node.ctx, ast.Load):
            return node
        call = ast.Call(ast.Name(GETATTR_NAME, ast.Load()), [node.value, ast.Constant(node.attr)], [])
        return ast.copy_location(call, node)


def guard_attribute_reads(tree: ast.Module) -> ast.Module:
    """The checked tree with every attribute read routed through `__guarded_getattr__`."""
    guarded: ast.Module = _AttributeReads().visit(tree)
    return ast.fix_missing_locations(guarded)


def disable_string_evaluators(pd: Any) -> None:
    """Replace pandas' evaluators of code in strings by a refusal (this process runs one snippet)."""

    def refused(*_args: Any, **_kwargs: Any) -> Any:
        raise PermissionError(
            "Restricted Python refused: pandas eval/query evaluate strings as code; "
            "use ordinary pandas expressions (boolean masks, df[cond], df.assign)."
        )

    for name in STRING_EVALUATORS:
        setattr(pd.DataFrame, name, refused)
    pd.eval = refused
