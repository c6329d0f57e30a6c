"""csvanalyst: answers questions about CSV files, with every answer traceable to a sandboxed run."""

__version__ = "0.1.0"
