"""Effective configuration: CLI flag > environment > config file > default.

Kept dependency-light (pydantic-settings only) because every command imports it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


def default_home() -> Path:
    """The platform's user data dir, unless CSVANALYST_HOME says otherwise."""
    env = os.environ.get("CSVANALYST_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("csvanalyst", appauthor=False)


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def config_file() -> Path:
    """`config.toml` in the home directory: keys are the setting names, e.g. `timeout_s = 30`."""
    return default_home() / "config.toml"


class Settings(BaseSettings):
    """Every tunable the core reads. Environment variables use the CSVANALYST_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CSVANALYST_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default_factory=default_home, description="Store, cache and config.toml (default: the user data dir)."
    )
    sandbox: str = Field("local", description="Where queries run: local, docker, kubernetes or microsandbox.")
    max_rows: int = Field(10_000, ge=1, le=10_000_000, description="Row cap injected into every query.")
    max_output_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Cap on a run's JSON result.")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Wall-clock limit of one run.")
    memory_mb: int = Field(4096, ge=64, description="Memory limit of one run.")
    threads: int = Field(2, ge=1, le=64, description="DuckDB threads inside the sandbox.")
    strict: bool = Field(
        False, description="Refuse a file with rows that cannot be read, instead of setting them aside."
    )
    history_turns: int = Field(6, ge=0, le=100, description="Earlier turns of a thread sent to the model.")
    thousands_separator: bool = Field(
        False, description="Group the digits of numbers shown to people (1,234,567.891); csv/json stay exact."
    )
    enable_python: bool = Field(
        default_factory=lambda: _env_flag("ENABLE_PYTHON_EXECUTION"),
        description="Allow restricted Python analysis (inside an isolated sandbox only). "
        "Also on when ENABLE_PYTHON_EXECUTION=1.",
    )

    daemon: bool = Field(
        False,
        description="Hand one-shot commands (sql, ask, plan) to a warm per-user background worker "
        "(docs/daemon.md); off (the default) runs every command in its own process unless it says --daemon.",
    )
    daemon_idle_s: float = Field(
        900.0, gt=0, le=7 * 24 * 3600, description="Seconds the background worker waits for a command before exiting."
    )

    model: str | None = Field(None, description="Model name for the chosen provider (default: per provider).")
    tool_set: Literal["auto", "full", "compact"] = Field(
        "auto",
        description="Tools offered to the model: full (QueryPlan, SQL, charts), compact (flat SQL-first tools "
        "for small local models), or auto (compact for an OpenAI-compatible server other than api.openai.com).",
    )
    openai_base_url: str | None = Field(
        None,
        validation_alias=AliasChoices("openai_base_url", "OPENAI_BASE_URL"),
        description="An OpenAI-compatible server (Ollama, vLLM, llama.cpp); no key needed for a local one.",
    )
    openai_model: str | None = Field(
        None, validation_alias=AliasChoices("openai_model", "OPENAI_MODEL"), description="Model for openai."
    )
    anthropic_base_url: str | None = Field(
        None, validation_alias=AliasChoices("anthropic_base_url", "ANTHROPIC_BASE_URL"), description="Anthropic URL."
    )
    anthropic_model: str | None = Field(
        None, validation_alias=AliasChoices("anthropic_model", "ANTHROPIC_MODEL"), description="Model for anthropic."
    )

    k8s_namespace: str | None = Field(
        None, description="Namespace of runner Jobs (default: the pod's own, else the kubeconfig context's)."
    )
    k8s_context: str | None = Field(None, description="kubeconfig context to use outside a cluster.")
    k8s_image: str | None = Field(None, description="Runner image for Jobs (default: csvanalyst-runner:<tag>).")
    k8s_image_pull_policy: str = Field("IfNotPresent", description="imagePullPolicy of runner pods.")
    k8s_datasets_pvc: str | None = Field(
        None, description="PersistentVolumeClaim holding the dataset cache; mounted read-only into runner Jobs."
    )
    k8s_datasets_root: Path | None = Field(
        None, description="Where that claim is mounted in this process (default: the cache directory)."
    )
    k8s_service_account: str | None = Field(None, description="Service account of runner pods (no token mounted).")
    k8s_labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on runner Jobs and pods.")
    k8s_colocate_labels: dict[str, str] = Field(
        default_factory=dict,
        description="Labels of a pod runner pods must share a node with (a ReadWriteOnce dataset claim needs it).",
    )
    k8s_start_timeout_s: float = Field(
        120.0, gt=0, description="How long a runner pod may stay unscheduled or pulling before the run fails."
    )
    k8s_ttl_s: int = Field(300, ge=0, description="ttlSecondsAfterFinished of runner Jobs (they are also deleted).")
    microsandbox_rootfs: Path | None = Field(
        None, description="Root filesystem of the runner microVM (default: built from the runner image inputs)."
    )

    mlflow_enabled: bool = Field(
        False,
        validation_alias=AliasChoices("CSVANALYST_MLFLOW_ENABLED", "MLFLOW_ENABLED"),
        description="Trace every turn to MLflow (needs `pip install 'csvanalyst[mlflow]'`).",
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("CSVANALYST_MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_URI"),
        description="Where traces go (default: a SQLite store under the home directory; no server needed).",
    )
    mlflow_experiment_name: str = Field(
        "csvanalyst",
        validation_alias=AliasChoices("CSVANALYST_MLFLOW_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"),
        description="MLflow experiment that holds the traces and evaluations.",
    )

    @model_validator(mode="after")
    def _default_tracking_uri(self) -> Settings:
        if not self.mlflow_tracking_uri:
            self.mlflow_tracking_uri = f"sqlite:///{self.mlflow_dir / 'mlflow.db'}"
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """CLI flags (init) > environment > config file > defaults."""
        from pydantic_settings import TomlConfigSettingsSource

        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file())

    @property
    def store_path(self) -> Path:
        return self.home / "csvanalyst.db"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def mlflow_dir(self) -> Path:
        """MLflow's store and artifacts: under the home directory, never the current one."""
        return self.home / "mlflow"


def load_settings(**overrides: Any) -> Settings:
    """Settings with `overrides` (CLI flags) on top; a bad value anywhere is a clear usage error."""
    import tomllib

    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from csvanalyst.errors import UsageError

    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"The config file {config_file()} is not valid TOML: {exc}.", hint="Fix or remove it."
        ) from exc
    except SettingsError as exc:  # e.g. a dict setting whose environment value is not JSON
        raise UsageError(
            f"Invalid setting: {exc}.",
            hint='Dict settings such as CSVANALYST_K8S_LABELS take a JSON object, e.g. {"team": "data"}.',
        ) from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise UsageError(
            f"Invalid setting: {problems}.",
            hint=f"Check the flags, the CSVANALYST_* environment variables and {config_file()}.",
        ) from exc


_ENV_NAMES = {
    "openai_base_url": "OPENAI_BASE_URL",
    "openai_model": "OPENAI_MODEL",
    "anthropic_base_url": "ANTHROPIC_BASE_URL",
    "anthropic_model": "ANTHROPIC_MODEL",
}


def env_name(setting: str) -> str:
    return _ENV_NAMES.get(setting, f"CSVANALYST_{setting.upper()}")


def _file_values() -> dict[str, Any]:
    import tomllib

    try:
        return tomllib.loads(config_file().read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def provider_setting(name: str) -> str:
    """A model-provider setting, read fresh: its environment variable, else config.toml, else ''.

    Read at each client creation (not from the cached Settings) so a changed environment is seen."""
    value = os.environ.get(env_name(name)) or _file_values().get(name)
    return str(value) if value else ""


def model_setting(provider: str) -> str:
    """The model for a provider: CSVANALYST_MODEL, <PROVIDER>_MODEL, then `<provider>_model` or `model` in
    config.toml; '' for the provider's default."""
    file = _file_values()
    for value in (
        os.environ.get("CSVANALYST_MODEL"),
        os.environ.get(f"{provider.upper()}_MODEL"),
        file.get(f"{provider}_model"),
        file.get("model"),
    ):
        if value:
            return str(value)
    return ""


def unknown_config_keys() -> list[str]:
    """One warning per key of config.toml that is no setting, naming the nearest one."""
    from difflib import get_close_matches

    known = list(Settings.model_fields)
    warnings = []
    for key in _file_values():
        if key in known:
            continue
        nearest = get_close_matches(key, known, n=1, cutoff=0.6)
        also = f"; did you mean `{nearest[0]}`?" if nearest else "; `csvanalyst config` lists the settings."
        warnings.append(f"{config_file()}: unknown setting `{key}` is ignored{also}")
    return warnings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def explain(settings: Settings, flags: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Each setting, its effective value and where it came from: flag, environment, config file or default."""
    from_file = _file_values()
    rows = []
    for name, field in Settings.model_fields.items():
        env = next((e for e in _env_names(name, field) if e in os.environ), None)
        if flags and flags.get(name) is not None:
            source = "flag"
        elif env is not None:
            source = f"environment ({env})"
        elif name in from_file:
            source = f"config file ({config_file()})"
        else:
            source = "default"
        rows.append({"name": name, "value": str(getattr(settings, name)), "source": source})
    return rows


def _env_names(name: str, field: Any) -> list[str]:
    """The environment variables a setting reads, in precedence order."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(c) for c in alias.choices if str(c).isupper()]
    return [f"CSVANALYST_{name.upper()}"]
