"""Start-up repair: a run still marked `running` belongs to a process that died mid-run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("csvanalyst.server")

INTERRUPTED = {
    "code": "interrupted",
    "message": "The process running this query stopped before it finished.",
    "hint": "Run the query again.",
}


def fail_interrupted_runs(store_path: Path) -> int:
    """Mark every `running` run as an error; returns how many. Call only before this process runs any."""
    from csvanalyst.store.db import connect, transaction

    db = connect(store_path)
    try:
        with transaction(db):
            cursor = db.execute(
                "UPDATE runs SET status = 'error', error_json = ?, finished_at = created_at WHERE status = 'running'",
                (json.dumps(INTERRUPTED),),
            )
        count = cursor.rowcount
    finally:
        db.close()
    if count:
        log.warning("marked interrupted runs as failed", extra={"runs": count})
    return count
