"""A small on-disk memo of JSON entries, one file per key: what the policy approved, what a plan
compiled to and what a SQL text says of its columns for a chart. Entries are written atomically (a
reader sees a whole entry or none), read back only when they name their own key, and the older half
goes once there are MAX_ENTRIES. A memo that cannot be read or written is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

MAX_ENTRIES = 4096


def source_digest(paths: Iterable[Path], *, library: str) -> str:
    """A digest of code files and of an installed library's release: a change of either is a new memo."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        digest.update(version(library).encode())
    except PackageNotFoundError:  # a vendored copy without metadata: never reuse an entry
        digest.update(os.urandom(16))
    return digest.hexdigest()


def key_of(facts: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


def read(memo_dir: Path, key: str) -> dict[str, Any] | None:
    """The entry stored under `key`, or None for a miss or anything unreadable or not its own."""
    try:
        data = json.loads((memo_dir / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("key") == key else None


def write(memo_dir: Path, key: str, entry: dict[str, Any]) -> None:
    try:
        memo_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        _prune(memo_dir)
        fd, tmp = tempfile.mkstemp(dir=memo_dir, prefix=".entry-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({**entry, "key": key}, out)
            os.replace(tmp, memo_dir / f"{key}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return


def _prune(memo_dir: Path) -> None:
    entries = list(memo_dir.glob("*.json"))
    if len(entries) < MAX_ENTRIES:
        return
    entries.sort(key=lambda p: p.stat().st_mtime)
    for path in entries[: len(entries) // 2]:
        path.unlink(missing_ok=True)
