"""Scheduler configuration (`BOTRAM_*` environment variables)."""

from botram_shared.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "scheduler"
    http_port: int = 8001
    database_url: str | None = database_url_field("scheduler")
