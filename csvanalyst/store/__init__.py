"""SQLite store: datasets, run capsules, threads. WAL mode, numbered migrations."""
