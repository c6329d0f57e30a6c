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
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()
