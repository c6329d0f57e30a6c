"""Cache builds under contention: many threads and processes asking for a dataset whose CSV changed.

Every caller must get the new data; exactly one build runs at a time, and a builder killed with -9
in the middle of its build neither blocks nor corrupts the next one.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from pathlib import Path

import pytest

from csvanalyst.catalog.registry import add_dataset, get_dataset
from csvanalyst.config import get_settings
from csvanalyst.errors import UsageError

WORKERS = 6


def _write(path: Path, rows: int) -> Path:
    path.write_text("id,city,amount\n" + "".join(f"{i},City {i % 7},{i * 1.5}\n" for i in range(rows)))
    return path


def _rows_in_child(home: str, name: str, barrier: object, results: object) -> None:
    os.environ["CSVANALYST_HOME"] = home
    built: list[str] = []
    barrier.wait()  # type: ignore[attr-defined]
    try:
        info = get_dataset(name, progress=lambda label, fraction: built.append(label))
        results.put(("ok", info.tables[0].row_count, info.fingerprint, bool(built)))  # type: ignore[attr-defined]
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(("failed", repr(exc), "", bool(built)))  # type: ignore[attr-defined]


def _add_in_child(home: str, csv: str, barrier: object, results: object) -> None:
    os.environ["CSVANALYST_HOME"] = home
    barrier.wait()  # type: ignore[attr-defined]
    try:
        add_dataset(Path(csv), name="shared")
        results.put("added")  # type: ignore[attr-defined]
    except UsageError as exc:
        results.put(f"refused: {exc.message}")  # type: ignore[attr-defined]
    except Exception as exc:  # reported to the parent, which fails the test with it
        results.put(f"failed: {exc!r}")  # type: ignore[attr-defined]


def _build_then_hang(home: str, name: str, building: object) -> None:
    """Start a rebuild and stop inside it (at its first progress report) until killed."""
    os.environ["CSVANALYST_HOME"] = home

    def progress(label: str, fraction: float) -> None:
        building.set()  # type: ignore[attr-defined]
        threading.Event().wait()

    get_dataset(name, progress=progress)


def test_threads_after_a_rewrite_all_get_the_new_data(tmp_path: Path) -> None:
    csv = _write(tmp_path / "sales.csv", 2_000)
    add_dataset(csv)
    _write(csv, 30_000)
    barrier = threading.Barrier(WORKERS)
    outcomes: list[object] = []
    builders: set[int] = set()

    def ask() -> None:
        barrier.wait()
        try:
            info = get_dataset("sales", progress=lambda label, fraction: builders.add(threading.get_ident()))
            outcomes.append((info.tables[0].row_count, info.fingerprint))
        except Exception as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert not failures, failures
    assert {o for o in outcomes} == {(30_000, get_dataset("sales").fingerprint)}
    assert len(builders) == 1, "every caller after the first must wait for its build and reuse it"
    assert _leftover_temp_files() == []


def test_processes_after_a_rewrite_all_get_the_new_data(tmp_path: Path) -> None:
    csv = _write(tmp_path / "sales.csv", 2_000)
    add_dataset(csv)
    _write(csv, 40_000)
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(4), spawn.Queue()
    home = str(get_settings().home)
    children = [spawn.Process(target=_rows_in_child, args=(home, "sales", barrier, results)) for _ in range(4)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join()
    assert [o for o in outcomes if o[0] != "ok"] == []
    assert {o[1] for o in outcomes} == {40_000}
    assert len({o[2] for o in outcomes}) == 1
    assert sum(o[3] for o in outcomes) == 1, "one process builds, the others wait and reuse its cache"
    assert _leftover_temp_files() == []


def test_a_builder_killed_mid_build_does_not_block_or_corrupt_the_next(tmp_path: Path) -> None:
    csv = _write(tmp_path / "sales.csv", 1_000)
    add_dataset(csv)
    _write(csv, 20_000)
    spawn = multiprocessing.get_context("spawn")
    building = spawn.Event()
    child = spawn.Process(target=_build_then_hang, args=(str(get_settings().home), "sales", building))
    child.start()
    if not building.wait(timeout=120):
        child.kill()
        pytest.fail("the child never reached its build")
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    info = get_dataset("sales")
    assert info.tables[0].row_count == 20_000
    assert _leftover_temp_files() == []


def test_two_adds_of_one_name_keep_the_winners_cache(tmp_path: Path) -> None:
    first, second = _write(tmp_path / "a.csv", 30_000), _write(tmp_path / "b.csv", 30_001)
    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(2), spawn.Queue()
    home = str(get_settings().home)
    children = [spawn.Process(target=_add_in_child, args=(home, str(csv), barrier, results)) for csv in (first, second)]
    for child in children:
        child.start()
    outcomes = sorted(results.get(timeout=120) for _ in children)
    for child in children:
        child.join()
    assert outcomes[0] == "added" and outcomes[1].startswith("refused: A dataset named 'shared' is already"), outcomes
    rebuilt: list[str] = []
    info = get_dataset("shared", progress=lambda label, fraction: rebuilt.append(label))
    assert rebuilt == [], "the winner's cache must still be there"
    assert Path(info.tables[0].source.path).is_file()


def _leftover_temp_files() -> list[Path]:
    return sorted(p for p in get_settings().cache_dir.rglob("*.tmp"))
