"""Byte counts as people read them, one way everywhere (disk-full errors, ingest progress)."""

from __future__ import annotations


def human_bytes(size: float) -> str:
    """'512 bytes', '1.5 KB', '680.3 MB', '2.0 GB' (powers of 1024)."""
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GB"
