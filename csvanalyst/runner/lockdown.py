"""Defence in depth inside the sandbox: OS limits on the process, then a locked DuckDB.

DuckDB's lockdown does not rely on the host's SQL policy: even raw hostile SQL reaching the runner
cannot read other files, write files, load extensions or change settings.
"""

from __future__ import annotations

import os
import resource
from typing import Any

from .protocol import RunLimits, Table

# Room for the interpreter, DuckDB's code and allocations outside its buffer manager.
MEMORY_HEADROOM_MB = 256
MAX_OPEN_FILES = 256


def duckdb_memory_mb(limits: RunLimits) -> int:
    """DuckDB's own budget stays under the OS cap so it fails with a clean OOM error first."""
    return max(32, limits.memory_mb * 3 // 4)


def connect_config(limits: RunLimits, scratch: str) -> dict[str, Any]:
    """Settings fixed at connect time; temp_directory cannot be changed once external access is off."""
    return {
        "memory_limit": f"{duckdb_memory_mb(limits)}MB",
        "threads": max(1, limits.threads),
        "temp_directory": scratch,
        "max_temp_directory_size": f"{max(64, limits.memory_mb)}MB",
        "autoload_known_extensions": False,
        "autoinstall_known_extensions": False,
        "allow_community_extensions": False,
        "allow_persistent_secrets": False,
    }


def lock(con: Any, tables: dict[str, Table]) -> None:
    """Restrict file access to the dataset files, then freeze every setting."""
    paths = [os.path.abspath(t.path) for t in tables.values()]
    con.execute("SET allowed_paths = ?", [paths])
    con.execute("SET enable_external_access = false")
    con.execute("SET autoload_known_extensions = false")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET allow_community_extensions = false")
    con.execute("SET lock_configuration = true")


def apply_rlimits(limits: RunLimits) -> None:
    """OS limits as a second wall; RLIMIT_DATA, not RLIMIT_AS, because DuckDB reserves large
    virtual ranges up front and fails under an address-space cap far below its real use."""
    cpu = int(limits.timeout_s * max(1, limits.threads)) + 5
    memory = (limits.memory_mb + MEMORY_HEADROOM_MB) * 1024 * 1024
    scratch = (max(64, limits.memory_mb) + 64) * 1024 * 1024
    for res, value in (
        (resource.RLIMIT_CPU, cpu),
        (resource.RLIMIT_DATA, memory),
        (resource.RLIMIT_FSIZE, scratch),
        (resource.RLIMIT_NOFILE, MAX_OPEN_FILES),
        (resource.RLIMIT_CORE, 0),
    ):
        _lower(res, value)


def _lower(res: int, value: int) -> None:
    """Only ever lower a limit: an unprivileged process cannot raise its hard limit."""
    soft, hard = resource.getrlimit(res)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    if soft != resource.RLIM_INFINITY and soft < value:
        value = soft
    resource.setrlimit(res, (value, value))
