"""A full disk is reported as a full disk (where, how much), never as a bad CSV, and leaves nothing.

The disk is a small tmpfs this test mounts and unmounts; where mounting is not allowed the test is
skipped, saying why.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.catalog.registry import add_dataset
from csvanalyst.config import get_settings
from csvanalyst.errors import EnvironmentProblem


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_cache_that_does_not_fit_says_the_disk_is_full(
    small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSVANALYST_HOME", str(small_disk / "home"))
    get_settings.cache_clear()
    csv = tmp_path / "tokens.csv"
    with csv.open("w") as out:
        out.write("id,token\n")
        out.writelines(f"{i},{secrets.token_hex(16)}\n" for i in range(300_000))
    with pytest.raises(EnvironmentProblem) as caught:
        add_dataset(csv)
    message = caught.value.message
    assert "is full" in message and str(small_disk) in message and "MB" in message, message
    assert "CSVANALYST_HOME" in caught.value.hint
    cache = get_settings().cache_dir
    assert [p for p in cache.rglob("*") if p.is_file() and p.suffix != ".lock"] == [], "no half-written cache"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os
    import sys

    env = {**os.environ, "CSVANALYST_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "csvanalyst", *args], capture_output=True, text=True, env=env)


def test_read_only_commands_work_on_a_full_disk(small_disk: Path) -> None:
    home = small_disk / "home"
    assert _cli(home, "sql", "SELECT count(*) AS n FROM orders", "-d", "retail").returncode == 0
    filler = small_disk / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True, check=False)
    listed = _cli(home, "runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "SELECT count(*) AS n FROM orders" in listed.stdout
    datasets = _cli(home, "datasets", "list")
    assert datasets.returncode == 0 and "retail" in datasets.stdout, datasets.stderr
    doctor = _cli(home, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stderr
    assert '"healthy": true' in doctor.stdout


def test_a_query_on_a_full_disk_still_answers_and_says_it_was_not_recorded(small_disk: Path) -> None:
    home = small_disk / "home"
    assert _cli(home, "sql", "SELECT 1 AS one FROM orders LIMIT 1", "-d", "retail").returncode == 0  # cache built
    subprocess.run(["dd", "if=/dev/zero", f"of={small_disk / 'filler'}", "bs=64k"], capture_output=True, check=False)
    asked = _cli(home, "ask", "SQL: SELECT count(*) AS n FROM orders", "-d", "retail", "--events")
    assert asked.returncode == 0, asked.stderr
    import json

    events = [json.loads(line) for line in asked.stdout.splitlines() if line.strip()]
    statuses = [e["message"] for e in events if e["type"] == "status"]
    assert any("not recorded" in message for message in statuses), statuses
    finished = [e for e in events if e["type"] == "run_finished"]
    assert finished and finished[0]["status"] == "ok" and finished[0]["rows"][0][0] > 0
    assert events[-1] == {**events[-1], "type": "done", "status": "answered"}
