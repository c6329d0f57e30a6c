"""The code that runs inside every sandbox. Imports only the stdlib and duckdb (pandas/numpy for Python)."""
