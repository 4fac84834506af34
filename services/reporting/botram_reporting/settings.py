"""Reporting configuration (`BOTRAM_*` environment variables)."""

from pydantic import Field

from botram_runtime.settings import ServiceSettings, database_url_field


class Settings(ServiceSettings):
    service_name: str = "reporting"
    http_port: int = 8004
    database_url: str | None = database_url_field("reporting")
    # One transaction per fetched batch, a handful of statements whatever its size.
    reporting_batch_size: int = Field(default=500, gt=0, le=10_000)
    # How long a batch may take to fill. The pull loop (botram_runtime.consumers) fetches until
    # it holds `reporting_batch_size` events or this time has passed, so below ~batch_size /
    # timeout events/s this is the latency added to a report (0.5 s made freshness p99 ~1.1 s);
    # when reporting lags, nats-py's first no-wait request fills the batch at once. Idle, the
    # loop polls this often: two small requests per poll, ~2 % of a core here (0.5 s: 0.5 %).
    reporting_batch_timeout_seconds: float = Field(default=0.05, gt=0)
    # Once a batch's first event has arrived, how much longer the batch may take to fill
    # (the timeout above then bounds only an idle poll). This, not the timeout, is what a
    # report waits when reporting keeps up; lagging, batches fill at once whatever it is.
    reporting_batch_linger_seconds: float = Field(default=0.01, gt=0)
    # Events per transaction when rebuilding (replaying the stream); bigger batches amortise
    # each statement over more events.
    reporting_rebuild_batch_size: int = Field(default=5_000, gt=0, le=50_000)
    # Demand ranking: tickets issued over this many days up to the closing session's date.
    demand_window_days: int = Field(default=90, gt=0)
    # How often the consumer lag gauge asks JetStream for the consumer's pending messages.
    consumer_lag_poll_seconds: float = Field(default=5.0, gt=0)
    # PostgreSQL only (replicas share the database): how often each replica reloads the
    # /metrics mirror from the database, so it counts the other replicas' commits too (its
    # own show at once). SQLite is one process: its mirror is always whole.
    metrics_refresh_seconds: float = Field(default=2.0, gt=0)
