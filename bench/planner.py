"""The offline planner's accuracy on the public-data question suite, by question kind (shares, 0..1)."""

from __future__ import annotations

import os
import tempfile
from collections import Counter


def run() -> dict[str, float]:
    from csvanalyst.config import get_settings
    from tests.fixtures.public_suite import report, run_suite

    with tempfile.TemporaryDirectory() as home:
        os.environ["CSVANALYST_HOME"] = home
        get_settings.cache_clear()
        outcomes = run_suite()
    print(report(outcomes), flush=True)
    totals: Counter[str] = Counter(o.case["kind"] for o in outcomes)
    good: Counter[str] = Counter(o.case["kind"] for o in outcomes if o.verdict in ("correct", "refused"))
    figures = {f"correct_{kind}": good[kind] / n for kind, n in sorted(totals.items())}
    answerable = [o for o in outcomes if "sql" in o.case]
    figures["correct_answerable"] = sum(o.verdict == "correct" for o in answerable) / len(answerable)
    figures["confidently_wrong"] = float(sum(o.verdict == "wrong" for o in outcomes))
    return figures
