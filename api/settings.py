"""The service's settings, read from the environment once (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["critical", "error", "warning", "info", "debug", "trace"]


class Settings(BaseSettings):
    """Environment variables: MODEL_DIR, API_HOST, API_PORT, API_WORKERS, API_REUSE_PORT,
    API_KEEP_ALIVE, API_LOG_LEVEL, API_ACCESS_LOG, API_MAX_BODY_BYTES."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    model_dir: Path = Field(default=Path("model"), validation_alias="MODEL_DIR")
    api_host: str = "0.0.0.0"
    api_port: int = Field(default=8000, ge=0, le=65535)
    api_workers: int = Field(default=1, ge=1, le=64)
    api_reuse_port: bool = False
    # Longer than a load balancer's usual 60 s idle timeout, so the balancer or the client closes an
    # idle connection, not the server just as a request arrives (uvicorn's 5 s races clients that pause ~5 s).
    api_keep_alive: int = Field(default=75, ge=1, le=3600)
    api_log_level: LogLevel = "info"
    api_access_log: bool = False
    # A 1,000-row batch is ~100 kB of JSON; anything over 1 MiB is refused with 413.
    api_max_body_bytes: int = Field(default=1_048_576, ge=1)

    @field_validator("api_log_level", mode="before")
    @classmethod
    def _lowercase_level(cls, value: object) -> object:
        """Accept INFO as well as info."""
        return value.lower() if isinstance(value, str) else value


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once (call `get_settings.cache_clear()` to re-read)."""
    return Settings()
