"""Is a process still there? Read from /proc/PID/stat, so a zombie (exited, not yet reaped by its
parent) counts as gone, and a reused pid can be told from the process first seen by its start time."""

from __future__ import annotations

GONE_STATES = ("Z", "X")  # zombie, dead


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[0] not in GONE_STATES


def start_time(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), or None once it is gone or a zombie."""
    fields = stat_fields(pid)
    return fields[19] if fields is not None and fields[0] not in GONE_STATES else None


def parent(pid: int) -> int | None:
    fields = stat_fields(pid)
    return int(fields[1]) if fields is not None else None
