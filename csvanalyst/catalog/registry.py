"""The dataset registry: demo and user datasets by name, persisted in the store, cached on demand.

`get_dataset` is the one way the rest of the product obtains a dataset: it resolves the name, checks
the source files' fingerprint, and rebuilds the Parquet cache and profile only when something changed.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from csvanalyst.catalog import demo
from csvanalyst.catalog.build import build_dataset, fingerprint_of, prune_cache
from csvanalyst.catalog.buildlock import build_lock
from csvanalyst.catalog.files import file_dataset
from csvanalyst.catalog.names import close_matches, dataset_name
from csvanalyst.catalog.reader import NO_OPTIONS, ReaderOptions, from_mapping
from csvanalyst.catalog.rejects import set_aside_notes
from csvanalyst.catalog.schema import DatasetInfo, Origin
from csvanalyst.catalog.sources import Source, sources_for
from csvanalyst.config import get_settings
from csvanalyst.errors import NotFoundError, UsageError
from csvanalyst.store import datasets as rows
from csvanalyst.store.db import connect, connect_readonly, transaction

Progress = Callable[[str, float], None]

__all__ = [
    "DatasetSummary",
    "add_dataset",
    "file_dataset",
    "get_dataset",
    "list_datasets",
    "remove_dataset",
]


class DatasetSummary(BaseModel):
    """One line of `datasets list`; `rows` is None for a demo not profiled yet."""

    model_config = ConfigDict(frozen=True)

    name: str
    origin: str
    description: str
    tables: int
    rows: int | None
    source: str


def _store() -> closing[sqlite3.Connection]:
    return closing(connect(get_settings().store_path))


def _reading() -> closing[sqlite3.Connection]:
    """The store opened read-only: listing and resolving datasets work on a full disk."""
    return closing(connect_readonly(get_settings().store_path))


def list_datasets() -> list[DatasetSummary]:
    """Demo datasets first (in registry order), then the user's, by name."""
    with _reading() as db:
        stored = {row["name"]: row for row in rows.list_all(db)}
    result = []
    for entry in demo.load_registry()["datasets"]:
        row = stored.pop(entry["name"], None)
        info = DatasetInfo.model_validate_json(row["info_json"]) if row else None
        source = str(demo.packaged_dir())
        result.append(_summary(entry["name"], "demo", entry["description"], len(entry["tables"]), info, source))
    for name, row in sorted(stored.items()):
        info = DatasetInfo.model_validate_json(row["info_json"])
        result.append(_summary(name, row["origin"], info.description, len(info.tables), info, row["source_path"]))
    return result


def _summary(name: str, origin: str, desc: str, tables: int, info: DatasetInfo | None, src: str) -> DatasetSummary:
    total = None
    if info is not None and all(t.row_count is not None for t in info.tables):
        total = sum(t.row_count or 0 for t in info.tables)
    return DatasetSummary(name=name, origin=origin, description=desc, tables=tables, rows=total, source=src)


def get_dataset(name: str, progress: Progress | None = None) -> DatasetInfo:
    """The named dataset with a fresh cache and profile; NotFoundError lists what exists.

    A stale cache is rebuilt under the dataset's build lock; callers that waited for another build
    find its result fresh and use it instead of building again.
    """
    fresh = _fresh_or_none(name)
    if fresh is not None:
        return fresh
    with build_lock(get_settings().cache_dir, name):
        fresh = _fresh_or_none(name)
        if fresh is not None:
            return fresh
        resolved = _resolve(name)
        return _rebuild(name, resolved, progress)


def _fresh_or_none(name: str) -> DatasetInfo | None:
    resolved = _resolve(name)
    if resolved.row is not None and _is_fresh(resolved.row, resolved.sources, resolved.reader):
        return DatasetInfo.model_validate_json(resolved.row["info_json"])
    return None


@dataclass
class _Resolved:
    """A dataset's stored row (if any) and what it is built from now."""

    row: sqlite3.Row | None
    origin: Origin
    description: str
    sources: list[Source]
    source_path: str
    reader: ReaderOptions


def _resolve(name: str) -> _Resolved:
    with _reading() as db:
        row = rows.get(db, name)
    if row is None and name not in demo.demo_names():
        raise _not_found(name)
    origin: Origin = row["origin"] if row else "demo"
    if origin == "demo":
        entry = demo.demo_entry(name) or {}
        description, sources, source_path = _demo_sources(name)
        reader = from_mapping(entry.get("reader"), f"the registry entry of {name!r}")
        return _Resolved(row, origin, description, sources, source_path, reader)
    assert row is not None  # only a demo may be resolved without a registry row
    source_path = row["source_path"]
    info = DatasetInfo.model_validate_json(row["info_json"])
    reader = from_mapping(info.reader, f"the stored dataset {name!r}")
    return _Resolved(row, origin, info.description, sources_for(Path(source_path)), source_path, reader)


def _is_fresh(row: sqlite3.Row, sources: list[Source], reader: ReaderOptions) -> bool:
    if fingerprint_of(sources, reader) != row["fingerprint"]:
        return False
    info = DatasetInfo.model_validate_json(row["info_json"])
    return all(Path(t.source.path).is_file() for t in info.tables)


def _demo_sources(name: str) -> tuple[str, list[Source], str]:
    entry = demo.demo_entry(name)
    assert entry is not None  # callers check demo_names() first
    folder = demo.ensure_demo_files(get_settings().home)
    sources = [(table, (folder / file).resolve()) for table, file in entry["tables"].items()]
    return entry["description"], sources, str(folder)


def _rebuild(name: str, resolved: _Resolved, progress: Progress | None) -> DatasetInfo:
    """Build into a new fingerprint directory, record it, then drop the stale caches."""
    cache_root = get_settings().cache_dir
    info = build_dataset(
        name, resolved.origin, resolved.description, resolved.sources, cache_root, progress, resolved.reader
    )
    try:
        _record(info, resolved.source_path)
    except BaseException:
        shutil.rmtree(cache_root / name / info.fingerprint, ignore_errors=True)
        raise
    prune_cache(cache_root, name, keep=info.fingerprint)
    return info


def _record(info: DatasetInfo, source_path: str) -> None:
    with _store() as db, transaction(db):
        rows.upsert(
            db,
            name=info.name,
            origin=info.origin,
            source_path=source_path,
            fingerprint=info.fingerprint,
            info_json=info.model_dump_json(),
        )


def add_dataset(
    path: Path,
    name: str | None = None,
    progress: Progress | None = None,
    *,
    strict: bool = False,
    reader: ReaderOptions = NO_OPTIONS,
) -> DatasetInfo:
    """Register a CSV file or a folder of CSVs: validated, cached and profiled before it is recorded.

    The whole add holds the name's build lock, so of two adds of one name the second waits and is
    refused without touching the cache the first one built. With `strict`, a file with rows that cannot
    be read is refused instead of registered without them. `reader` is stored and used on every rebuild.
    """
    path = Path(path).expanduser()
    sources = sources_for(path)
    resolved = path.resolve()
    dataset = dataset_name(name, path.stem if resolved.is_file() else path.name)
    _check_free(dataset)
    source_path = str(resolved)
    tables = len(sources)
    description = f"{tables} table{'s' if tables != 1 else ''} from {source_path}"
    cache_root = get_settings().cache_dir
    with build_lock(cache_root, dataset):
        _check_free(dataset)
        prune_cache(cache_root, dataset, keep=None)  # leftovers of a crashed earlier attempt
        try:
            info = build_dataset(dataset, "user", description, sources, cache_root, progress, reader)
            set_aside_notes(info, strict=strict)
            with _store() as db, transaction(db):
                rows.upsert(
                    db,
                    name=dataset,
                    origin="user",
                    source_path=source_path,
                    fingerprint=info.fingerprint,
                    info_json=info.model_dump_json(),
                )
        except BaseException:
            prune_cache(cache_root, dataset, keep=None)
            raise
    return info


def _check_free(dataset: str) -> None:
    if dataset in demo.demo_names():
        raise UsageError(
            f"{dataset!r} is the name of a built-in demo dataset.", hint="Choose another name with --name."
        )
    with _reading() as db:
        if rows.get(db, dataset) is not None:
            raise _taken(dataset)


def _taken(dataset: str) -> UsageError:
    return UsageError(
        f"A dataset named {dataset!r} is already registered.",
        hint=f"Choose another name with --name, or remove the old one with `datasets remove {dataset}`.",
    )


def remove_dataset(name: str) -> None:
    """Forget a user dataset and delete its cache; the source files are never touched."""
    if name in demo.demo_names():
        raise UsageError(
            f"{name!r} is a built-in demo dataset and cannot be removed.",
            hint="Only datasets added with `datasets add` can be removed.",
        )
    cache_root = get_settings().cache_dir
    with build_lock(cache_root, name):
        with _store() as db, transaction(db):
            if not rows.delete(db, name):
                raise _not_found(name)
        prune_cache(cache_root, name, keep=None)


def _not_found(name: str) -> NotFoundError:
    with _reading() as db:
        known = sorted({*demo.demo_names(), *(row["name"] for row in rows.list_all(db))})
    similar = close_matches(name, known)
    guess = f" Did you mean {' or '.join(repr(s) for s in similar)}?" if similar else ""
    return NotFoundError(
        f"No dataset named {name!r}.{guess}",
        hint=f"Known datasets: {', '.join(known)}. Add your own with `datasets add PATH`.",
    )
