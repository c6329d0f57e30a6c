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


def test_model_settings_come_from_the_environment_then_the_config_file(
    isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csvanalyst.config import model_setting, provider_setting, unknown_config_keys

    for name in ("CSVANALYST_MODEL", "OPENAI_MODEL", "OPENAI_BASE_URL", "ANTHROPIC_MODEL"):
        monkeypatch.delenv(name, raising=False)
    (isolated_home / "config.toml").write_text(
        'model = "m-file"\nanthropic_model = "claude-file"\nopenai_base_url = "http://127.0.0.1:1/v1"\n'
        "timeuot_s = 3\nzzz = 1\n"
    )
    assert model_setting("openai") == "m-file" and model_setting("anthropic") == "claude-file"
    assert provider_setting("openai_base_url") == "http://127.0.0.1:1/v1"
    monkeypatch.setenv("OPENAI_MODEL", "m-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:2/v1")
    assert model_setting("openai") == "m-env" and provider_setting("openai_base_url") == "http://127.0.0.1:2/v1"
    warnings = unknown_config_keys()
    assert len(warnings) == 2
    assert "`timeuot_s`" in warnings[0] and "did you mean `timeout_s`" in warnings[0]
    assert "`zzz`" in warnings[1] and "csvanalyst config" in warnings[1]
    assert load_settings().model == "m-file"
