"""Messy-corpus scores: our loader vs DuckDB's auto-detection vs pandas' sniffing reader, same files.

For each loader: the share of files loaded exactly, precision/recall/F1 of header names, records and
cells against the clean tables, files refused, and silent losses (fewer rows than the file holds and
no word said: no error, no set-aside count).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.corpus_check import cell_scores
from tests.messy_corpus import Case, build_corpus

Loaded = tuple[list[str], list[tuple[Any, ...]], int]  # header, rows, rows reported as set aside


def ours(path: Path) -> Loaded:
    from csvanalyst.catalog.files import file_dataset
    from tests.unit.test_messy_corpus import loaded_rows

    table = file_dataset([path]).tables[0]
    return [c.name for c in table.columns], loaded_rows(table), table.rows.set_aside if table.rows else 0


def duckdb_auto(path: Path) -> Loaded:
    import duckdb

    with duckdb.connect() as con:
        relation = con.read_csv(str(path))
        return list(relation.columns), relation.fetchall(), 0


def pandas_sniff(path: Path) -> Loaded:
    import pandas as pd

    frame = pd.read_csv(path, sep=None, engine="python", dtype=str, keep_default_na=False)
    return [str(c) for c in frame.columns], [tuple(r) for r in frame.itertuples(index=False)], 0


LOADERS: dict[str, Callable[[Path], Loaded]] = {"csvanalyst": ours, "duckdb": duckdb_auto, "pandas": pandas_sniff}


def score(loader: Callable[[Path], Loaded], cases: list[Case]) -> dict[str, float]:
    totals = {k: [0, 0, 0] for k in ("header", "record", "cell")}
    exact = refused = silent = 0
    for case in cases:
        try:
            header, rows, set_aside = loader(case.path)
        except Exception:  # a refusal: nothing loaded, but the user was told
            header, rows, set_aside = [], [], 0
            refused += 1
        parts = cell_scores(case, header, rows)
        for kind, values in parts.items():
            totals[kind] = [a + b for a, b in zip(totals[kind], values, strict=True)]
        record_tp, loaded, expected = parts["record"]
        exact += int(record_tp == loaded == expected and parts["header"][0] == len(case.header))
        if header and len(rows) + set_aside < expected:  # loaded, said nothing, yet rows are missing
            silent += 1
    result = {"files": float(len(cases)), "exact_share": exact / len(cases), "refused": float(refused)}
    for kind, (tp, got, want) in totals.items():
        precision, recall = tp / got if got else 0.0, tp / want if want else 0.0
        result[f"{kind}_f1"] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        result[f"{kind}_precision"], result[f"{kind}_recall"] = precision, recall
    result["silent_losses"] = float(silent)
    return result


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CSVANALYST_HOME"] = str(Path(tmp) / "home")
        from csvanalyst.config import get_settings

        get_settings.cache_clear()
        cases = build_corpus(Path(tmp) / "corpus")
        flat: dict[str, float] = {}
        for name, loader in LOADERS.items():
            for key, value in score(loader, cases).items():
                flat[f"{name}.{key}"] = value
        return flat
