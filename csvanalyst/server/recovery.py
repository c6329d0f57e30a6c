"""Start-up repair: runs still marked `running` whose owning process is gone (on this host)."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("csvanalyst.server")


def fail_interrupted_runs(store_path: Path) -> int:
    """Mark the runs of dead owners as interrupted; live CLI/TUI runs are left running."""
    from csvanalyst.store.db import connect
    from csvanalyst.store.owners import repair_orphaned_runs

    db = connect(store_path)
    try:
        count = repair_orphaned_runs(db)
    finally:
        db.close()
    if count:
        log.warning("marked interrupted runs as failed", extra={"runs": count})
    return count
