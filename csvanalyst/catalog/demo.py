"""The demo datasets: where they live, their registry, and the seeded generator that writes them.

The committed CSVs in `datasets/` are this generator's output (seed 42, scale 1.0). When they are
missing (e.g. a trimmed install) they are regenerated into CSVANALYST_HOME/demo, never into the package.
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from csvanalyst.catalog import demo_data
from csvanalyst.catalog.bigcsv import generate_big_csv

__all__ = ["generate", "generate_big_csv", "load_registry", "packaged_dir"]

SEED = 42
REGISTRY = "registry.json"

DEMOS: list[dict[str, Any]] = [
    {
        "name": "retail",
        "description": "Online shop 2023-2025: orders joined to customers and products by key.",
        "build": lambda rng, scale: demo_data.retail(rng, orders=round(3000 * scale), customers=400),
        "questions": [
            "What was the total revenue per month in 2024?",
            "Which region has the most orders?",
            "Top 5 products by revenue",
            "How many orders were cancelled or returned per category?",
            "What share of orders had a discount?",
        ],
    },
    {
        "name": "support",
        "description": "Customer support tickets 2024-2025: priority, channel, agent, resolution, satisfaction.",
        "build": lambda rng, scale: demo_data.support(rng, tickets=round(1500 * scale)),
        "questions": [
            "What is the average resolution time in hours by priority?",
            "Which agent has the best average satisfaction?",
            "How many tickets are still open?",
            "Tickets per channel per month",
        ],
    },
    {
        "name": "sensors",
        "description": "Two-hourly temperature, humidity and battery readings of 12 devices on 3 sites.",
        "build": lambda rng, scale: demo_data.sensors(rng, days=max(1, round(20 * scale))),
        "questions": [
            "Average temperature per site per day",
            "Which device has the lowest battery?",
            "What is the maximum temperature recorded, and by which device?",
            "How many readings are missing humidity?",
        ],
    },
]


def packaged_dir() -> Path:
    """The demo datasets this install carries (csvanalyst.bundled): a wheel's copy, or a checkout's datasets/.
    Without either, the wheel's place: the files are then regenerated from the seed (ensure_demo_files)."""
    from csvanalyst import bundled

    return bundled.find("datasets") or bundled.package_root() / "_datasets"


def load_registry(directory: Path | None = None) -> dict[str, Any]:
    """The parsed registry.json (from the packaged dir unless told otherwise)."""
    path = (directory or packaged_dir()) / REGISTRY
    if not path.is_file():
        return registry_document(SEED, 1.0)
    registry: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return registry


def demo_names() -> list[str]:
    return [entry["name"] for entry in load_registry()["datasets"]]


def demo_entry(name: str) -> dict[str, Any] | None:
    return next((e for e in load_registry()["datasets"] if e["name"] == name), None)


def ensure_demo_files(home: Path) -> Path:
    """The directory holding the demo CSVs: the packaged one, or a regenerated copy under `home`."""
    packaged = packaged_dir()
    document = load_registry(packaged)
    if _all_present(packaged, document):
        return packaged
    target = home / "demo"
    if not _all_present(target, document):
        generate(target, seed=int(document.get("seed", SEED)), rows_scale=float(document.get("scale", 1.0)))
    return target


def _all_present(directory: Path, document: dict[str, Any]) -> bool:
    files = [f for entry in document["datasets"] for f in entry["tables"].values()]
    return all((directory / f).is_file() for f in files)


def registry_document(seed: int, rows_scale: float) -> dict[str, Any]:
    """registry.json's content; tables map a table name to its CSV, relative to the datasets dir."""
    datasets = []
    for spec in DEMOS:
        tables = spec["build"](random.Random(seed), 0.01)  # only the table names are needed here
        datasets.append(
            {
                "name": spec["name"],
                "description": spec["description"],
                "tables": {t: f"{spec['name']}/{t}.csv" for t in tables},
                "questions": spec["questions"],
            }
        )
    return {"version": 1, "seed": seed, "scale": rows_scale, "datasets": datasets}


def default_dest() -> Path:
    """`datasets/` of a source checkout; otherwise CSVANALYST_HOME/demo (never the installed package)."""
    from csvanalyst import bundled

    checkout = bundled.checkout_root()
    if checkout is not None and (checkout / "datasets" / REGISTRY).is_file():
        return checkout / "datasets"
    from csvanalyst.config import get_settings

    return get_settings().home / "demo"


def generate(
    dest_dir: Path | None = None, *, seed: int = SEED, rows_scale: float = 1.0, names: list[str] | None = None
) -> list[Path]:
    """Write the demo CSVs and registry.json to `dest_dir`; same seed and scale, same bytes."""
    dest_dir = dest_dir or default_dest()
    written = []
    for offset, spec in enumerate(DEMOS):
        if names and spec["name"] not in names:
            continue
        tables = spec["build"](random.Random(seed * 1000 + offset), rows_scale)
        for table, (header, rows) in tables.items():
            written.append(_write_csv(dest_dir / spec["name"] / f"{table}.csv", header, rows))
    document = json.dumps(registry_document(seed, rows_scale), indent=2, ensure_ascii=False) + "\n"
    written.append(_atomic_write(dest_dir / REGISTRY, lambda f: f.write(document)))
    return written


def _write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    def write(handle: Any) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows([["" if v is None else v for v in row] for row in rows])

    return _atomic_write(path, write)


def _atomic_write(path: Path, write: Callable[[Any], object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        write(handle)
    os.replace(tmp, path)
    return path
