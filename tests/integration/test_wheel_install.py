"""The wheel, installed the way a user installs it: built from this checkout, put into a new venv in a temporary
folder outside the repository, and run from there with a fresh home. Nothing may come from the checkout.

The venv gets the same dependency versions as the one running the tests (a constraints file), so the installed
runner hashes to the runner image `make runner-image` built. CI runs this (it needs network or a warm pip cache);
elsewhere it skips, saying why, when pip cannot build or install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.integration.docker_support import runner_image_client
from tests.support.live import ServeProcess
from tests.support.requires import local_isolation, unavailable

REPO = Path(__file__).resolve().parents[2]
# Building and installing a wheel with its dependencies takes minutes on a loaded machine: a hang guard, not a claim.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]


def _pip(python: Path, *args: str, cwd: Path) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=900,
    )
    if done.returncode != 0:
        unavailable(f"pip {args[0]} failed (network or package index unreachable?): {done.stderr.strip()[-600:]}")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """(the installed `csvanalyst` script, an environment with a fresh home) from a wheel of this checkout."""
    root = tmp_path_factory.mktemp("wheel-install")
    assert REPO not in root.parents
    dist = root / "dist"
    _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(dist), str(REPO), cwd=root)
    (wheel,) = dist.glob("csvanalyst-*.whl")
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    constraints = root / "constraints.txt"
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--exclude-editable"], capture_output=True, text=True, check=True
    )
    constraints.write_text(frozen.stdout)
    _pip(python, "install", "-c", str(constraints), str(wheel), cwd=root)
    home = root / "home"
    env = {
        "PATH": f"{env_dir / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(root / "user"),
        "CSVANALYST_HOME": str(home),
        "CSVANALYST_ALLOW_MODEL_REQUESTS": "0",
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
    }
    yield {"cli": env_dir / "bin" / "csvanalyst", "env": env, "cwd": root, "python": python}


def run(installed: dict[str, object], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(installed["cli"]), *args],
        capture_output=True,
        text=True,
        env=installed["env"],  # type: ignore[arg-type]
        cwd=installed["cwd"],  # type: ignore[arg-type]
        timeout=300,
    )


def test_the_package_is_imported_from_the_venv_not_the_checkout(installed: dict[str, object]) -> None:
    code = "import csvanalyst, csvanalyst.bundled as b; print(csvanalyst.__file__); print(b.path('runner_image'))"
    done = subprocess.run([str(installed["python"]), "-c", code], capture_output=True, text=True, cwd=installed["cwd"])
    assert done.returncode == 0, done.stderr
    package, image_dir = done.stdout.split()
    assert str(REPO) not in package and "site-packages" in package
    assert image_dir.endswith("csvanalyst/_runner_image")


def test_ask_answers_from_the_packaged_demo_data(installed: dict[str, object]) -> None:
    done = run(installed, "ask", "how many orders", "-d", "retail", "--json", "--provider", "offline")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "answered" and doc["runs"][0]["rows"][0][0] > 0


def test_doctor_runs(installed: dict[str, object]) -> None:
    done = run(installed, "doctor")
    assert done.returncode in (0, 6), done.stderr  # 6: a sandbox or provider is missing, which it reports
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert "sandbox" in done.stdout.lower()


def test_sql_in_the_docker_sandbox_and_runner_check(installed: dict[str, object]) -> None:
    runner_image_client("the installed wheel's docker sandbox").close()
    check = run(installed, "runner", "check")
    assert check.returncode == 0, check.stdout + check.stderr
    done = run(
        installed, "sql", "SELECT count(*) AS n FROM orders", "-d", "retail", "--sandbox", "docker", "--format", "json"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"][0][0] > 0


def test_serve_answers_healthz(installed: dict[str, object]) -> None:
    env = {k: v for k, v in installed["env"].items()}  # type: ignore[attr-defined]
    with ServeProcess(env=env, command=[str(installed["cli"])]) as server:
        response = httpx.get(f"{server.url}/healthz", timeout=30)
    assert response.status_code == 200, response.text


def test_deploy_image_says_it_needs_a_checkout(installed: dict[str, object]) -> None:
    done = run(installed, "deploy", "image")
    assert done.returncode == 6, done.stderr
    assert "source checkout" in done.stderr and "internal error" not in done.stderr


def test_python_mode_runs_from_a_venv_below_tmp(installed: dict[str, object]) -> None:
    """The venv lives below /tmp here, as a CI checkout may: bwrap binds it read-only on top of the run's private
    /tmp, and the warm worker must keep it on its import path (only writable paths are dropped)."""
    local_isolation("bwrap")
    assert str(installed["cwd"]).startswith(tempfile.gettempdir())
    env = {**installed["env"], "CSVANALYST_ENABLE_PYTHON": "1"}  # type: ignore[dict-item]
    snippet = "import numpy as np\nresult = int(np.int64(len(orders)))"
    done = subprocess.run(
        [str(installed["cli"]), "python", snippet, "-d", "retail", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=installed["cwd"],  # type: ignore[arg-type]
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == [[3000]]
