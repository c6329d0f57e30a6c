"""csvanalyst: answers questions about CSV files, with every answer traceable to a sandboxed run."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("csvanalyst")  # the one source is pyproject.toml's `version`
except PackageNotFoundError:  # a source tree on sys.path that was never installed
    __version__ = "0+unknown"
