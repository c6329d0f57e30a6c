"""Hostile uploads made safe: the client's file name never becomes a path, and nothing half-made stays.

Each upload gets its own directory under `$CSVANALYST_HOME/uploads`; the file inside it is named from a
sanitised stem. The catalog then validates it exactly as `datasets add` would; on any failure the
directory is removed.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from csvanalyst.catalog.sweep import write_owner
from csvanalyst.errors import InputError

KEPT_SUFFIXES = {".json", ".ndjson", ".jsonl", ".xlsx"}  # the catalog reads these by their suffix
ALLOWED_SUFFIXES = {".csv", ".tsv", ".txt", *KEPT_SUFFIXES}
COMPRESSED = (".gz", ".zst")  # after one of the above: decompressed by the catalog like any such file
CHUNK = 1024 * 1024


def safe_stem(filename: str | None) -> str:
    """The last component of either path flavour, reduced to [A-Za-z0-9_-]; never empty, never a dot name."""
    name = _without_compression(PureWindowsPath(PurePosixPath(filename or "").name).name)
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix.lower() in ALLOWED_SUFFIXES else name
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_-")[:64]
    return cleaned or "upload"


def _without_compression(name: str) -> str:
    for ending in COMPRESSED:
        if name.lower().endswith(ending):
            return name[: -len(ending)]
    return name


def check_suffix(filename: str | None) -> None:
    name = _without_compression(PurePosixPath(PureWindowsPath(filename or "").name).name)
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise InputError(
            f"Only CSV, JSON, NDJSON and Excel .xlsx files can be uploaded (got {filename!r}).",
            hint=f"Upload a file ending in {', '.join(sorted(ALLOWED_SUFFIXES))} (optionally .gz or .zst).",
        )


def save(source: BinaryIO, filename: str | None, root: Path) -> Path:
    """Copy the upload into a fresh directory under `root`; returns the file's path."""
    check_suffix(filename)
    folder = root / uuid.uuid4().hex
    folder.mkdir(parents=True, mode=0o700)
    suffix = PurePosixPath(_without_compression(PurePosixPath(PureWindowsPath(filename or "").name).name)).suffix
    target = folder / f"{safe_stem(filename)}{suffix.lower() if suffix.lower() in KEPT_SUFFIXES else '.csv'}"
    try:
        write_owner(folder)  # a server killed mid-upload leaves a folder the next start can reclaim
        with target.open("xb") as out:
            shutil.copyfileobj(source, out, CHUNK)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def discard(path: Path, root: Path) -> None:
    """Remove an upload's directory, and only ever one inside `root`."""
    folder = path.parent.resolve()
    if folder.parent == root.resolve():
        shutil.rmtree(folder, ignore_errors=True)
