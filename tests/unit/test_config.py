"""Settings precedence (flag > environment > config file > default) and clear errors for bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from csvanalyst.config import explain, load_settings
from csvanalyst.errors import UsageError


def test_precedence_and_sources(isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_home / "config.toml").write_text("timeout_s = 30\nthreads = 3\nmax_rows = 50\n")
    monkeypatch.setenv("CSVANALYST_THREADS", "1")
    settings = load_settings(max_rows=7)
    assert (settings.timeout_s, settings.threads, settings.max_rows, settings.memory_mb) == (30, 1, 7, 4096)
    sources = {r["name"]: r["source"] for r in explain(settings, flags={"max_rows": 7})}
    assert sources["max_rows"] == "flag"
    assert sources["threads"].startswith("environment")
    assert sources["timeout_s"].startswith("config file")
    assert sources["memory_mb"] == "default"


@pytest.mark.parametrize(("text", "words"), [("timeout_s = [", "not valid TOML"), ("timeout_s = -1", "greater than 0")])
def test_bad_config_is_a_usage_error(isolated_home: Path, text: str, words: str) -> None:
    (isolated_home / "config.toml").write_text(text)
    with pytest.raises(UsageError, match=words):
        load_settings()


def test_kubernetes_labels_come_from_json_and_bad_json_is_a_usage_error(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CSVANALYST_K8S_LABELS", '{"app.kubernetes.io/instance": "prod"}')
    assert load_settings().k8s_labels == {"app.kubernetes.io/instance": "prod"}
    monkeypatch.setenv("CSVANALYST_K8S_LABELS", "instance=prod")
    with pytest.raises(UsageError) as caught:
        load_settings()
    assert "k8s_labels" in caught.value.message and "JSON object" in caught.value.hint
