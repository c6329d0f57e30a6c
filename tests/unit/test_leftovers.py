"""Crash leftovers: `doctor --fix` reclaims what processes killed with -9 left, and nothing live."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from csvanalyst.catalog.registry import add_dataset, get_dataset
from csvanalyst.config import get_settings


def _write(path: Path, rows: int) -> Path:
    path.write_text("id,amount\n" + "".join(f"{i},{i * 2}\n" for i in range(rows)))
    return path


def _add_then_hang(home: str, csv: str, name: str, ready: object) -> None:
    """Start `datasets add` and stop inside its build (first progress report) until killed."""
    os.environ["CSVANALYST_HOME"] = home

    def progress(label: str, fraction: float) -> None:
        ready.put("building")  # type: ignore[attr-defined]
        threading.Event().wait()

    add_dataset(Path(csv), name=name, progress=progress)


def _upload_then_hang(home: str, ready: object) -> None:
    """Save an upload as the server does, then stop before it is registered."""
    from csvanalyst.server.uploads import save

    path = save(io.BytesIO(b"a,b\n1,2\n"), "big.csv", Path(home) / "uploads")
    ready.put(str(path))  # type: ignore[attr-defined]
    threading.Event().wait()


def _child(target: object, *args: object) -> tuple[multiprocessing.process.BaseProcess, str]:
    spawn = multiprocessing.get_context("spawn")
    ready = spawn.Queue()
    child = spawn.Process(target=target, args=(*args, ready), daemon=True)
    child.start()
    return child, ready.get(timeout=120)


def _kill(child: multiprocessing.process.BaseProcess) -> None:
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join()


def _doctor_fix(home: Path) -> dict[str, object]:
    env = {**os.environ, "CSVANALYST_HOME": str(home), "DOCKER_HOST": "unix:///nonexistent.sock"}
    done = subprocess.run(
        [sys.executable, "-m", "csvanalyst", "doctor", "--fix", "--json"], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["fixed"]


def test_doctor_fix_reclaims_dead_leftovers_and_keeps_live_work(tmp_path: Path) -> None:
    home, cache = get_settings().home, get_settings().cache_dir
    kept = add_dataset(_write(tmp_path / "kept.csv", 100))
    dead_add, _ = _child(_add_then_hang, str(home), str(_write(tmp_path / "big.csv", 50_000)), "never_added")
    dead_upload, upload = _child(_upload_then_hang, str(home))
    live_add, _ = _child(_add_then_hang, str(home), str(_write(tmp_path / "live.csv", 50_000)), "still_adding")
    try:
        _kill(dead_add)
        _kill(dead_upload)
        assert (cache / "never_added").exists() and Path(upload).exists()
        fixed = _doctor_fix(home)
        assert not (cache / "never_added").exists(), "a killed add's partial cache is reclaimed"
        assert not Path(upload).parent.exists(), "a killed upload's folder is reclaimed"
        assert (cache / "still_adding").exists(), "a live build's folder is left alone"
        assert fixed["paths"] >= 2 and fixed["bytes"] > 0  # type: ignore[operator]
    finally:
        _kill(live_add)
    rebuilt: list[str] = []
    assert get_dataset("kept", progress=lambda label, f: rebuilt.append(label)).fingerprint == kept.fingerprint
    assert rebuilt == [], "a registered dataset's cache is never swept"
