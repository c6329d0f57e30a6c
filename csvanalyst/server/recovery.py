"""Start-up repair: runs still marked `running` whose owning process is gone (on this host)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("csvanalyst.server")


def fail_interrupted_runs(store_path: Path) -> int:
    """Mark the runs of dead owners as interrupted; live CLI/TUI runs are left running."""
    from csvanalyst.core.records import repair_interrupted_runs

    count = repair_interrupted_runs(store_path)
    if count:
        log.warning("marked interrupted runs as failed", extra={"runs": count})
    return count


def sweep_leftovers() -> None:
    """Reclaim what killed processes left on this home (partial caches, uploads, sandbox scratch)."""
    from csvanalyst.catalog.sweep import sweep_home
    from csvanalyst.executors.local.executor import sweep_stale_scratch

    swept = sweep_home()
    scratch = sweep_stale_scratch()
    if swept.paths or scratch:
        log.warning("removed crash leftovers", extra={"paths": swept.paths + scratch, "bytes": swept.bytes})
