"""The MLflow settings: names, precedence, the default store under CSVANALYST_HOME, and `config`'s sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvanalyst.config import explain, load_settings
from csvanalyst.observability.mlflow_setup import QUIET_ENVIRONMENT, quiet_environment, redacted_uri


@pytest.fixture(autouse=True)
def no_mlflow_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MLFLOW_ENABLED", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"CSVANALYST_{name}", raising=False)


def test_off_by_default_with_a_sqlite_store_under_home(isolated_home: Path) -> None:
    settings = load_settings()
    assert settings.mlflow_enabled is False
    assert settings.mlflow_tracking_uri == f"sqlite:///{isolated_home / 'mlflow' / 'mlflow.db'}"
    assert settings.mlflow_experiment_name == "csvanalyst"


def test_mlflow_names_and_prefixed_names_and_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_ENABLED", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    monkeypatch.setenv("CSVANALYST_MLFLOW_EXPERIMENT_NAME", "models")
    settings = load_settings()
    assert settings.mlflow_enabled and settings.mlflow_tracking_uri == "http://127.0.0.1:5000"
    assert settings.mlflow_experiment_name == "models"
    assert load_settings(mlflow_enabled=False).mlflow_enabled is False  # --no-trace beats the environment
    sources = {row["name"]: row["source"] for row in explain(settings)}
    assert sources["mlflow_enabled"] == "environment (MLFLOW_ENABLED)"
    assert sources["mlflow_experiment_name"] == "environment (CSVANALYST_MLFLOW_EXPERIMENT_NAME)"


def test_the_config_file_sets_tracing(isolated_home: Path) -> None:
    (isolated_home / "config.toml").write_text('mlflow_enabled = true\nmlflow_experiment_name = "from-file"\n')
    settings = load_settings()
    assert settings.mlflow_enabled and settings.mlflow_experiment_name == "from-file"


def test_quiet_environment_keeps_what_the_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in QUIET_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_MODEL_CATALOG_URI", "file:///srv/catalog")
    quiet_environment()
    import os

    assert os.environ["MLFLOW_MODEL_CATALOG_URI"] == "file:///srv/catalog"
    assert os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"


def test_a_tracking_uri_in_a_warning_loses_its_password() -> None:
    assert redacted_uri("https://user:pw@mlflow.example:5000/x") == "https://mlflow.example:5000/x"
    assert redacted_uri("sqlite:////tmp/m.db") == "sqlite:////tmp/m.db"
