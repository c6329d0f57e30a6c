"""Imitated model mistakes on the whole public suite: the share of turns that recover to the right answer.

Every answerable question each mistake applies to (tests/fixtures/model_mistakes.py), through the real
Session with the compact tool set; `recovered_<kind>` is a share (0..1), `turns_<kind>` the count tried.
"""

from __future__ import annotations

import os
import tempfile
from collections import Counter


def run() -> dict[str, float]:
    from csvanalyst.config import get_settings
    from tests.fixtures.model_mistakes import KINDS, report, run_trials

    with tempfile.TemporaryDirectory() as home:
        os.environ["CSVANALYST_HOME"] = home
        get_settings.cache_clear()
        trials = run_trials(None)
    get_settings.cache_clear()
    print(report(trials), flush=True)
    tried: Counter[str] = Counter(t.kind for t in trials)
    good: Counter[str] = Counter(t.kind for t in trials if t.recovered)
    figures: dict[str, float] = {}
    for kind in KINDS:
        figures[f"turns_{kind}"] = float(tried[kind])
        figures[f"recovered_{kind}"] = good[kind] / tried[kind] if tried[kind] else 0.0
    figures["recovered_all"] = sum(good.values()) / max(sum(tried.values()), 1)
    return figures
