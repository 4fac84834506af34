"""Notifier configuration (`BOTRAM_*` environment variables)."""

from botram_shared.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "notifier"
    http_port: int = 8003
    database_url: str | None = database_url_field("notifier")
