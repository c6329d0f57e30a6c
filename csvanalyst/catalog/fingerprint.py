"""Cheap but robust change detection for source files.

Size and mtime catch nearly every edit; the inode catches a file replaced by another, and the ctime
(which `utime` cannot set back) catches an in-place edit whose size and mtime were restored. Hashing the
first and last 64 KiB adds content to all that without reading a 10 GB file in full.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

EDGE_BYTES = 64 * 1024
FORMAT_VERSION = "1"  # bump when the cache layout or the sniffing rules change, to rebuild caches


def file_fingerprint(path: Path) -> str:
    """A short hex digest of a file's size, mtime, ctime, inode and its first and last 64 KiB."""
    stat = path.stat()
    digest = hashlib.blake2b(digest_size=12)
    digest.update(f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ctime_ns}:{stat.st_dev}:{stat.st_ino}".encode())
    with path.open("rb") as handle:
        digest.update(handle.read(EDGE_BYTES))
        if stat.st_size > EDGE_BYTES:
            handle.seek(max(EDGE_BYTES, stat.st_size - EDGE_BYTES))
            digest.update(handle.read(EDGE_BYTES))
    return digest.hexdigest()


def combine(parts: list[tuple[str, str]]) -> str:
    """One fingerprint for a dataset from its (table, file fingerprint) pairs; order-independent."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(FORMAT_VERSION.encode())
    for table, fingerprint in sorted(parts):
        digest.update(f"|{table}={fingerprint}".encode())
    return digest.hexdigest()
