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
