"""Fixtures shared by every test: an isolated CSVANALYST_HOME so no test touches the user's store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from csvanalyst.config import get_settings

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CSVANALYST_HOME", str(home))
    monkeypatch.setenv("CSVANALYST_ALLOW_MODEL_REQUESTS", "0")  # no test may reach a paid API
    # Off even if the user running the tests turned it on; tests/functional/test_daemon.py turns it on.
    monkeypatch.setenv("CSVANALYST_DAEMON", "0")
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
    stop_background_worker(home)


def stop_background_worker(home: Path) -> None:
    """No test leaves a background worker behind: one started for this home (its lock file says a worker
    ran here) is stopped, and waited for, before the home is given up."""
    if (home / "daemon.lock").exists():
        from csvanalyst.daemon import control

        result = control.stop(home)
        assert not result.get("running"), f"the background worker at {home} did not stop: {result}"


@pytest.fixture(params=["bwrap", "unshare", "none"])
def executor(request: pytest.FixtureRequest):  # -> LocalExecutor
    """The local sandbox in each isolation mode; a mode that cannot work here skips, or fails under CI."""
    from csvanalyst.executors.local.executor import LocalExecutor
    from tests.support.requires import local_isolation

    local_isolation(request.param)
    return LocalExecutor(isolation=request.param)
