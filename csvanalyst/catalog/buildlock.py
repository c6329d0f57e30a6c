"""One cache build per dataset at a time, across threads and processes: an advisory file lock.

The lock files live in `cache_root/.locks/`, outside the dataset folders that builds and removals
delete, so a lock file is never unlinked while someone holds it. `flock` is released by the kernel
when its holder dies, so a build killed with -9 never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCKS = ".locks"


@contextmanager
def build_lock(cache_root: Path, name: str) -> Iterator[None]:
    """Hold the build lock of dataset `name` (waiting for another holder to finish)."""
    with _locked(cache_root, name, blocking=True):
        yield


@contextmanager
def try_build_lock(cache_root: Path, name: str) -> Iterator[bool]:
    """Hold the lock if nobody does (True), or yield False at once: a live build owns the folder."""
    with _locked(cache_root, name, blocking=False) as held:
        yield held


@contextmanager
def _locked(cache_root: Path, name: str, *, blocking: bool) -> Iterator[bool]:
    folder = cache_root / LOCKS
    folder.mkdir(parents=True, exist_ok=True)
    # A fresh descriptor per caller: flock on separate open files excludes threads of one process too.
    fd = os.open(folder / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def unique_temp(dest: Path) -> Path:
    """A hidden temporary name beside `dest`, unique per process, thread and build."""
    tag = f"{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}"
    return dest.with_name(f".{dest.name}.{tag}.tmp")
