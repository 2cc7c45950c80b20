"""Settings: one pydantic-settings class, read from SOCAP_* environment variables and ``.env``.

Validated once at start-up; a bad value fails fast with the variable's name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from socap.clock import Clock, parse_clock


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCAP_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///./var/socap.db"
    queue_url: str = "sqlite:///./var/queue.db"
    clock: str = "system"

    x_api_base_url: str = "https://api.x.com/2"
    x_bearer_token: SecretStr | None = None
    x_timeout_seconds: float = Field(10.0, gt=0)
    x_max_retries: int = Field(3, ge=0, le=10)
    x_rate_limits: dict[str, int] = Field(default_factory=dict)  # per-endpoint overrides of X's table

    job_lease_minutes: float = Field(10.0, gt=0)
    worker_threads: int = Field(4, ge=1, le=64)
    dispatch_interval_seconds: float = Field(60.0, gt=0)
    alert_tick_seconds: float = Field(15.0, gt=0)

    poll_interval_minutes: int = Field(30, ge=1)
    default_alert_spacing_minutes: int = Field(20, ge=0)
    reconcile_interval_hours: float = Field(24.0, gt=0)
    notify_default_urls: list[str] = Field(default_factory=list)
    # extra category phrases (TOML or JSON: category → list of phrases; "re:" for a raw regex)
    category_rules_file: str | None = None

    secret_key: SecretStr = SecretStr("dev-insecure-change-me")
    web_host: str = "127.0.0.1"
    web_port: int = Field(8000, ge=1, le=65535)
    # the dashboard's address as users reach it (links in notifications); default http://WEB_HOST:WEB_PORT
    public_url: str | None = None
    # Chromium for PDF reports (default: the first of chromium / chromium-browser / google-chrome on PATH)
    chromium_path: str | None = None
    # dashboard query cache: "memory:" (in-process) or redis://host:port/db (shared by web processes)
    cache_url: str = "memory:"
    cache_ttl_seconds: int = Field(60, ge=0)
    # session cookies carry the Secure flag when the dashboard is served over https
    secure_cookies: bool = False
    # GET /metrics (Prometheus) answers 'Authorization: Bearer <this>' with every workspace's figures (an API
    # token of a user sees its own workspace's campaigns); unset: API tokens only
    metrics_token: SecretStr | None = None
    # log lines as text (with [campaign=… jobs=…]) or one JSON object per line
    log_format: Literal["text", "json"] = "text"

    @field_validator("clock")
    @classmethod
    def _clock_parses(cls, value: str) -> str:
        parse_clock(value)
        return value

    @field_validator("database_url", "queue_url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if not value.startswith(("sqlite:", "postgresql", "postgres:", "redis:", "rediss:")):
            raise ValueError(f"unsupported URL scheme in {value!r}: use sqlite:///, postgresql:// or redis://")
        return value

    @field_validator("category_rules_file")
    @classmethod
    def _rules_file_loads(cls, value: str | None) -> str | None:
        if value:
            from socap.importance.categories import CategoryRules

            CategoryRules.from_config(path=value)  # fail fast on a missing file or a bad rule
        return value

    @model_validator(mode="after")
    def _spacing_below_interval(self) -> Settings:
        if self.default_alert_spacing_minutes >= self.poll_interval_minutes:
            raise ValueError("default_alert_spacing_minutes must be shorter than poll_interval_minutes")
        return self

    @property
    def dashboard_url(self) -> str:
        """Where users reach the dashboard (no trailing slash)."""
        return (self.public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    def make_clock(self) -> Clock:
        return parse_clock(self.clock)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
