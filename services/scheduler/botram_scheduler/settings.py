"""Scheduler configuration (`BOTRAM_*` environment variables)."""

from pathlib import Path

from pydantic import AliasChoices, Field

from botram_runtime.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "scheduler"
    http_port: int = 8001
    database_url: str | None = database_url_field("scheduler")
    # The rotation rules (TOML); None = the default shipped with the service.
    rules_path: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("BOTRAM_SCHEDULER_RULES_PATH", "BOTRAM_RULES_PATH"),
    )
    # Open and close sessions at their start and end times, checked every `tick_seconds`.
    auto_lifecycle: bool = True
    tick_seconds: float = Field(default=30.0, gt=0)
