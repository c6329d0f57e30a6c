"""The static half of the restricted Python mode: an AST check, an import allowlist, safe builtins.

None of this is the security boundary (the sandbox is: see python_mode.py); it turns the obvious
escapes into a clear, early error and removes the easy tools of the less obvious ones. The host runs
`check()` too, before it starts a sandbox, for a friendly error without a round trip. Stdlib only.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any

# What `import` may name, exactly (no submodules: `import pandas.io.common` is refused).
# duckdb is not importable: the snippet gets the run's locked connection as `con`.
ALLOWED_IMPORTS = frozenset(
    {"math", "statistics", "datetime", "json", "re", "collections", "itertools", "functools", "pandas", "numpy"}
)

DENIED_NAMES = frozenset(
    {
        "exec", "eval", "compile", "open", "globals", "locals", "vars", "getattr", "setattr", "delattr",
        "hasattr", "breakpoint", "input", "help", "exit", "quit", "memoryview", "type", "object", "super",
        "classmethod", "staticmethod", "property", "dir", "id", "copyright", "credits", "license",
    }
)  # fmt: skip

# Attribute names refused on any object: frames and code, module re-exports of dangerous modules,
# str.format (it reads attributes from a format string), and pandas/numpy file I/O and unpickling.
DENIED_ATTRIBUTES = frozenset(
    {
        # frames, code objects, generators, tracebacks
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
        "tb_frame", "tb_next", "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "co_code",
        "func_globals", "mro",
        # attribute access driven by a string
        "format", "format_map", "attrgetter", "methodcaller",
        # modules that pandas/numpy submodules carry as attributes
        "os", "sys", "subprocess", "builtins", "importlib", "pickle", "cPickle", "ctypes", "ctypeslib",
        "shutil", "socket", "posix", "pty", "io_open", "marshal", "inspect", "gc", "signal", "platform",
        "system", "popen", "environ", "getenv", "putenv", "spawn", "fork", "execv",
        # file I/O, pickles and pandas' own expression evaluators
        "to_csv", "to_parquet", "to_pickle", "to_json", "to_excel", "to_feather", "to_hdf", "to_sql",
        "to_stata", "to_html", "to_latex", "to_markdown", "to_xml", "to_orc", "to_clipboard", "to_string_file",
        "tofile", "dump", "dumps", "load", "loads", "loadtxt", "savetxt", "save", "savez", "savez_compressed",
        "fromfile", "genfromtxt", "fromregex", "memmap", "open_memmap", "DataSource", "ExcelWriter", "HDFStore",
        "eval", "query", "install_extension", "load_extension", "register_filesystem",
    }
)  # fmt: skip
DENIED_ATTRIBUTE_PREFIXES = ("_", "read_", "from_csv", "from_parquet", "from_pickle")

# json.dumps/json.loads are harmless and common: allowed on the json module only.
JSON_OK = frozenset({"dumps", "loads"})

DENIED_NODES: dict[type[ast.AST], str] = {
    ast.ClassDef: "class definitions",
    ast.AsyncFunctionDef: "async functions",
    ast.AsyncFor: "async for",
    ast.AsyncWith: "async with",
    ast.Await: "await",
    ast.Global: "global statements",
    ast.Nonlocal: "nonlocal statements",
}


HOST_HINT = (
    "Use plain pandas/numpy over the DataFrames named after the tables (or `con.sql(...)`), "
    "and set `result`; no dunders, file I/O, pickles or imports outside the allowlist."
)


class GuardError(Exception):
    """The snippet uses something the restricted mode refuses; the message says what and where."""


def check(code: str) -> ast.Module:
    """Parse and vet a snippet; raise GuardError naming the first thing refused."""
    try:
        tree = ast.parse(code, filename="<snippet>", mode="exec")
    except SyntaxError as exc:
        raise GuardError(f"Syntax error on line {exc.lineno}: {exc.msg}.") from exc
    json_aliases = _json_aliases(tree)
    for node in ast.walk(tree):
        problem = _problem(node, json_aliases)
        if problem:
            line = getattr(node, "lineno", None)
            where = f" (line {line})" if line else ""
            raise GuardError(f"{problem}{where}.")
    return tree


def _json_aliases(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.asname or a.name for a in node.names if a.name == "json")
    return names


def _problem(node: ast.AST, json_aliases: set[str]) -> str | None:
    for kind, label in DENIED_NODES.items():
        if isinstance(node, kind):
            return f"{label[0].upper()}{label[1:]} are not allowed in restricted Python"
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name not in ALLOWED_IMPORTS:
                return _import_refused(alias.name)
    elif isinstance(node, ast.ImportFrom):
        if node.level or node.module not in ALLOWED_IMPORTS:
            return _import_refused(("." * node.level) + (node.module or ""))
        for alias in node.names:
            if alias.name == "*" or (
                _attribute_refused(alias.name) and not (node.module == "json" and alias.name in JSON_OK)
            ):
                return f"Importing {alias.name!r} from {node.module} is not allowed"
    elif isinstance(node, ast.Attribute):
        value = node.value
        if isinstance(value, ast.Name) and value.id in json_aliases and node.attr in JSON_OK:
            return None
        if _attribute_refused(node.attr):
            return _attribute_message(node.attr)
    elif isinstance(node, ast.Name):
        if node.id.startswith("__") or node.id in DENIED_NAMES:
            return f"The name {node.id!r} is not available in restricted Python"
    elif isinstance(node, (ast.FunctionDef, ast.Lambda)):
        name = getattr(node, "name", "")
        if name.startswith("__"):
            return f"Defining {name!r} is not allowed"
        for arg in _arg_names(node.args):
            if arg.startswith("__"):
                return f"The argument name {arg!r} is not allowed"
    elif isinstance(node, ast.MatchClass):
        for attr in node.kwd_attrs:  # `case X(__globals__=g)` reads an attribute with no Attribute node
            if _attribute_refused(attr):
                return _attribute_message(attr)
    elif isinstance(node, ast.alias) and node.asname and node.asname.startswith("__"):
        return f"The alias {node.asname!r} is not allowed"
    elif isinstance(node, ast.keyword) and node.arg and node.arg.startswith("__"):
        return f"The keyword {node.arg!r} is not allowed"
    elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value:
        return "Strings containing '__' are not allowed (they are how attribute names get smuggled)"
    return None


def _arg_names(args: ast.arguments) -> list[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return [a.arg for a in every]


def _attribute_refused(name: str) -> bool:
    return name in DENIED_ATTRIBUTES or name.startswith(DENIED_ATTRIBUTE_PREFIXES)


def _attribute_message(name: str) -> str:
    if name.startswith("_"):
        return f"Attributes starting with '_' ({name!r}) are not allowed in restricted Python"
    if name in ("format", "format_map"):
        return f"str.{name} is not allowed (it reads attributes from the format string); use an f-string"
    if name.startswith("read_") or name.startswith("to_") or name in ("load", "loads", "save", "tofile", "dump"):
        return (
            f"{name!r} reads or writes files or unpickles, which restricted Python refuses; "
            "the dataset's tables are already loaded as DataFrames, and `result` carries the output"
        )
    return f"The attribute {name!r} is not allowed in restricted Python"


def _import_refused(name: str) -> str:
    allowed = ", ".join(sorted(ALLOWED_IMPORTS))
    return f"Importing {name!r} is not allowed in restricted Python (allowed: {allowed}; DuckDB through `con`)"


SAFE_BUILTINS = (
    "abs", "all", "any", "ascii", "bin", "bool", "bytes", "callable", "chr", "complex", "dict", "divmod",
    "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance", "issubclass",
    "iter", "len", "list", "map", "max", "min", "next", "oct", "ord", "pow", "range", "repr", "reversed",
    "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
    "Exception", "ArithmeticError", "AssertionError", "AttributeError", "IndexError", "KeyError",
    "LookupError", "NameError", "OverflowError", "RuntimeError", "StopIteration", "TypeError",
    "ValueError", "ZeroDivisionError", "NotImplementedError",
)  # fmt: skip


def guarded_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
    """`__import__` for the snippet: only the allowlist, by exact name."""
    if level or name not in ALLOWED_IMPORTS:
        raise ImportError(_import_refused(name))
    return builtins.__import__(name, globals, locals, fromlist, level)


def safe_builtins(print_fn: Any) -> dict[str, Any]:
    table = {name: getattr(builtins, name) for name in SAFE_BUILTINS}
    table["print"] = print_fn
    table["__import__"] = guarded_import
    return table
