"""Which files make up a dataset: one file, a folder of them, or a demo's registry entry."""

from __future__ import annotations

from pathlib import Path

from csvanalyst.catalog.names import normalize_name
from csvanalyst.catalog.streams import table_stem
from csvanalyst.errors import InputError, UsageError

TEXT_SUFFIXES = {".csv", ".tsv", ".txt"}
SUFFIXES = {*TEXT_SUFFIXES, ".parquet", ".json", ".ndjson", ".jsonl", ".xlsx", ".xlsm"}
COMPRESSED_SUFFIXES = {f"{s}{c}" for s in TEXT_SUFFIXES for c in (".gz", ".zst")}
Source = tuple[str, Path]  # (table name, real path of the CSV)


def sources_for(path: Path) -> list[Source]:
    """Tables for a path given by the user: a single CSV file, or every CSV directly in a folder."""
    if not path.exists() and not path.is_symlink():
        raise InputError(f"File or folder not found: {path}.", hint="Check the path (and the current directory).")
    if path.is_dir():
        return discover(path)
    real = path.resolve()
    if not real.exists():
        raise InputError(f"{path} is a symlink to {real}, which does not exist.", hint="Fix or remove the link.")
    if not real.is_file():  # a pipe would block the fingerprint forever and could not be read again
        raise InputError(
            f"{path} is not a regular file (a pipe, socket or device), so it cannot be registered.",
            hint=f"Save it to a file first (e.g. `cat {path} > table.csv`), or query it once with --file.",
        )
    return [(normalize_name(table_stem(path)), real)]


def discover(folder: Path) -> list[Source]:
    """CSV files directly inside `folder` (not recursive), with links leaving the folder refused."""
    root = folder.resolve()
    try:
        entries = sorted(p for p in folder.iterdir() if _is_table_file(p) and not p.name.startswith("."))
    except OSError as exc:
        raise InputError(f"Cannot list {folder}: {exc.strerror or exc}.", hint="Check its permissions.") from exc
    found: list[Source] = []
    for entry in entries:
        real = entry.resolve()
        if not real.is_relative_to(root):
            raise InputError(
                f"{entry} is a link to {real}, which is outside the folder {folder}.",
                hint="Copy the file into the folder, or register it on its own with `datasets add FILE`.",
            )
        if real.is_file():
            found.append((normalize_name(table_stem(entry)), real))
    if not found:
        raise InputError(
            f"No CSV files in {folder} (looked for {', '.join(sorted(SUFFIXES))}, not in subfolders).",
            hint="Point to a folder that directly contains the CSV files, or to one file.",
        )
    check_unique([name for name, _ in found], [p for _, p in found])
    return found


def _is_table_file(path: Path) -> bool:
    name = path.name.lower()
    return path.suffix.lower() in SUFFIXES or any(name.endswith(s) for s in COMPRESSED_SUFFIXES)


def check_unique(names: list[str], paths: list[Path]) -> None:
    """Two files whose names normalise to the same table name would shadow each other."""
    seen: dict[str, Path] = {}
    for name, path in zip(names, paths, strict=True):
        if name in seen:
            raise UsageError(
                f"{seen[name].name} and {path.name} would both become table {name!r}.",
                hint="Rename one of the files so their names differ by more than case or punctuation.",
            )
        seen[name] = path
