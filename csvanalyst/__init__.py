"""csvanalyst: answers questions about CSV files, with every answer traceable to a sandboxed run."""

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__` is read from the package metadata on first use: importing importlib.metadata costs
    more than the console-script client that imports this package on every command."""
    if name != "__version__":
        raise AttributeError(f"module 'csvanalyst' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("csvanalyst")  # the one source is pyproject.toml's `version`
    except PackageNotFoundError:  # a source tree on sys.path that was never installed
        value = "0+unknown"
    globals()["__version__"] = value
    return value
