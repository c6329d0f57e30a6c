"""Inputs that cannot be read twice or in place: pipes and standard input, gzip and zstd files.

Each is copied once, streamed, to a plain file in the cache; sniffing, the full read and the runner
then all see one ordinary CSV, and an unchanged input maps to the same cached copy.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import sys
from pathlib import Path
from typing import IO

from csvanalyst.errors import InputError

CHUNK = 4 * 1024 * 1024
STDIN_NAMES = {"-", "/dev/stdin"}
COMPRESSED = {".gz": "gzip", ".zst": "zstd"}
_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


def is_stream(path: Path) -> bool:
    """Standard input, a FIFO or a process substitution (`<(cmd)`): readable once only."""
    if str(path) in STDIN_NAMES:
        return True
    try:
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def table_stem(path: Path) -> str:
    """`sales.csv.gz` -> `sales`; standard input is table `stdin`."""
    if str(path) in STDIN_NAMES or path.parent in (Path("/dev/fd"), Path("/proc/self/fd")):
        return "stdin"
    name = path.name
    for suffix in COMPRESSED:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return Path(name).stem


def spool(path: Path, folder: Path) -> Path:
    """Copy a stream once to `folder/<content hash>.csv` (atomically) and return that file."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".spool.{os.getpid()}.tmp"
    digest = hashlib.blake2b(digest_size=12)
    try:
        with _open_stream(path) as reader, tmp.open("wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                writer.write(chunk)
        if tmp.stat().st_size == 0:
            raise InputError(f"{_shown(path)} gave no data.", hint="Pipe a CSV with at least a header line into it.")
        dest = folder / f"{digest.hexdigest()}.csv"
        os.replace(tmp, dest)
        return dest
    finally:
        tmp.unlink(missing_ok=True)


def _open_stream(path: Path) -> IO[bytes]:
    if str(path) == "-":
        return os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror or exc}.", hint="Check the path.") from exc


def _shown(path: Path) -> str:
    return "standard input" if str(path) in STDIN_NAMES else str(path)


def compression_of(path: Path) -> str | None:
    """gzip or zstd, from the file's first bytes (the name alone can lie)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def decompress(path: Path, kind: str, dest: Path) -> Path:
    """Stream-decompress `path` to `dest` (atomically); a damaged archive is a clear InputError."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with path.open("rb") as raw, _decompressor(raw, kind) as reader, tmp.open("wb") as writer:
            shutil.copyfileobj(reader, writer, CHUNK)
        os.replace(tmp, dest)
    except Exception as exc:  # gzip, zlib and zstandard each raise their own classes for a damaged archive
        if isinstance(exc, OSError) and not isinstance(exc, gzip.BadGzipFile):
            raise  # a full disk or an unreadable file is not the archive's fault
        raise InputError(
            f"{path} looks {kind}-compressed but could not be decompressed: {exc}.",
            hint="Check that the download finished; decompress it yourself to see the problem.",
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def _decompressor(raw: IO[bytes], kind: str) -> IO[bytes]:
    if kind == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    import zstandard

    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
