"""Reporting configuration (`BOTRAM_*` environment variables)."""

from pydantic import Field

from botram_shared.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8004
    database_url: str | None = database_url_field("reporting")
    # One transaction per fetched batch: ~6x the throughput of one per event (PERFORMANCE.md).
    reporting_batch_size: int = Field(default=500, gt=0, le=10_000)
    # How long a fetch waits to fill a batch: the worst added latency of a report.
    reporting_batch_timeout_seconds: float = Field(default=0.5, gt=0)
    # Demand ranking: tickets issued over this many days up to the closing session's date.
    demand_window_days: int = Field(default=90, gt=0)
    # How often the consumer lag gauge asks JetStream for the consumer's pending messages.
    consumer_lag_poll_seconds: float = Field(default=5.0, gt=0)
