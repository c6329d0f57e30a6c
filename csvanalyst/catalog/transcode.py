"""Latin-1 and UTF-16 to UTF-8, streamed, so every later reader sees plain UTF-8.

One code path for every encoding keeps sniffing, caching and querying identical to UTF-8 files.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from csvanalyst.catalog.precheck import Encoding

CHUNK = 4 * 1024 * 1024


def transcode_to_utf8(src: Path, dest: Path, encoding: Encoding) -> Path:
    """Write `src` re-encoded as UTF-8 to `dest` (atomically: temp name, then rename)."""
    with src.open("rb") as probe:
        has_bom = probe.read(2) in (b"\xff\xfe", b"\xfe\xff")
    codec = "utf-16" if has_bom and encoding.startswith("utf-16") else encoding
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with src.open("rb") as reader, tmp.open("w", encoding="utf-8", newline="") as writer:
            while chunk := reader.read(CHUNK):
                writer.write(decoder.decode(chunk))
            writer.write(decoder.decode(b"", final=True))
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
