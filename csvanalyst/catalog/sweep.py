"""Reclaiming what crashed processes left: partial caches, temp files, orphaned upload folders.

Nothing a live process uses is touched: a cache folder is swept only while its build lock is free
(a live build holds it), and an upload folder only when it is no dataset's source and the process
that wrote it is gone.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from csvanalyst.catalog.buildlock import LOCKS, try_build_lock
from csvanalyst.store.owners import Owner, is_gone

OWNER_FILE = ".owner"


@dataclass
class Swept:
    paths: int = 0
    bytes: int = 0

    def remove(self, path: Path) -> None:
        size = _size(path)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        if not path.exists():
            self.paths += 1
            self.bytes += size


def sweep_home() -> Swept:
    """Sweep this home's cache and uploads of what crashed processes left behind."""
    from csvanalyst.config import get_settings
    from csvanalyst.store import datasets
    from csvanalyst.store.db import opened

    settings = get_settings()
    with opened(settings.store_path) as db:
        rows = datasets.list_all(db)
    swept = Swept()
    sweep_cache(settings.cache_dir, {row["name"]: row["fingerprint"] for row in rows}, swept)
    sweep_uploads(settings.home / "uploads", {Path(row["source_path"]) for row in rows}, swept)
    return swept


def sweep_cache(cache_root: Path, recorded: dict[str, str], swept: Swept) -> None:
    """Remove cache folders of unrecorded datasets, stale fingerprints and temp files (`recorded`:
    dataset name -> the fingerprint its row points to)."""
    if not cache_root.is_dir():
        return
    for folder in sorted(p for p in cache_root.iterdir() if p.is_dir() and p.name != LOCKS):
        with try_build_lock(cache_root, folder.name) as free:
            if not free:
                continue
            keep = recorded.get(folder.name)
            for child in list(folder.iterdir()):
                if child.name != keep:
                    swept.remove(child)
            for temp in [*(folder / keep).rglob("*.tmp"), *(folder / keep).glob(".utf8")] if keep else []:
                swept.remove(temp)
            if keep is None:
                swept.remove(folder)


def sweep_uploads(uploads: Path, sources: set[Path], swept: Swept) -> None:
    """Remove upload folders no dataset uses whose writer has exited."""
    if not uploads.is_dir():
        return
    used = {source.resolve().parent for source in sources}
    for folder in sorted(p for p in uploads.iterdir() if p.is_dir()):
        if folder.resolve() not in used and _writer_gone(folder):
            swept.remove(folder)


def write_owner(folder: Path) -> None:
    """Mark `folder` as being written by this process (read by the sweep)."""
    from csvanalyst.store.owners import this_process

    owner = this_process()
    (folder / OWNER_FILE).write_text(json.dumps({"host": owner.host, "pid": owner.pid, "started": owner.started}))


def _writer_gone(folder: Path) -> bool:
    try:
        data = json.loads((folder / OWNER_FILE).read_text())
        return is_gone(Owner(str(data["host"]), int(data["pid"]), str(data["started"])))
    except (OSError, ValueError, KeyError, TypeError):
        return True  # no readable mark: written before marks existed, or cut short before it


def _size(path: Path) -> int:
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0
