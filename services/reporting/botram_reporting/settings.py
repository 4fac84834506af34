"""Reporting configuration (`BOTRAM_*` environment variables)."""

from botram_shared.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8004
    database_url: str | None = database_url_field("reporting")
