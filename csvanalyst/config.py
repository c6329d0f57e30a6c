"""Effective configuration: CLI flag > environment > config file > default.

Kept dependency-light (pydantic-settings only) because every command imports it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """The platform's user data dir, unless CSVANALYST_HOME says otherwise."""
    env = os.environ.get("CSVANALYST_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("csvanalyst", appauthor=False)


class Settings(BaseSettings):
    """Every tunable the core reads. Environment variables use the CSVANALYST_ prefix."""

    model_config = SettingsConfigDict(env_prefix="CSVANALYST_", extra="ignore")

    home: Path = Field(default_factory=default_home)
    sandbox: str = "local"
    max_rows: int = Field(10_000, ge=1, le=10_000_000, description="Row cap injected into every query.")
    max_output_bytes: int = Field(64 * 1024 * 1024, ge=1024, description="Cap on a run's JSON result.")
    timeout_s: float = Field(60.0, gt=0, le=3600, description="Wall-clock limit of one run.")
    memory_mb: int = Field(4096, ge=64, description="Memory limit of one run.")
    threads: int = Field(2, ge=1, le=64, description="DuckDB threads inside the sandbox.")
    history_turns: int = Field(6, ge=0, le=100, description="Earlier turns of a thread sent to the model.")

    @property
    def store_path(self) -> Path:
        return self.home / "csvanalyst.db"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
