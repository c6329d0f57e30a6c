"""A build that runs out of disk says so: where, how much is free, roughly how much it needs.

DuckDB reports ENOSPC inside a generic IO error, which the CSV error mapping would otherwise blame
on the user's file.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from csvanalyst.catalog.units import human_bytes
from csvanalyst.errors import EnvironmentProblem

_MARKERS = ("No space left on device", f'"errno":"{errno.ENOSPC}"', "Disk quota exceeded")


def is_disk_full(exc: BaseException) -> bool:
    """True when `exc` or anything it was raised from is an out-of-space failure."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(marker in str(seen) for marker in _MARKERS):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def disk_full_error(where: Path, sources: list[Path], what: str) -> EnvironmentProblem:
    """The error for a full disk at `where` while building `what` from `sources`."""
    needed = sum(_size(path) for path in sources)
    try:
        usage = shutil.disk_usage(_existing(where))
        room = f"{human_bytes(usage.free)} free of {human_bytes(usage.total)}"
    except OSError:
        room = "free space unknown"
    return EnvironmentProblem(
        f"The disk holding {where} is full ({room}): building {what} needs up to about {human_bytes(needed)}"
        " (the size of its CSV files; the compressed cache is usually smaller).",
        hint="Free some space on that disk, or point CSVANALYST_HOME (or cache_dir) at a larger one.",
    )


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
