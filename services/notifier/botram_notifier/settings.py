"""Notifier configuration (`BOTRAM_*` environment variables)."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator

from botram_contracts.events import UP_NEXT_LENGTH
from botram_runtime.settings import ServiceSettings, database_url_field

DEV_OPT_OUT_KEY = "dev-only-opt-out-key-change-me"

# Like Svix: first attempt at once, then these delays (seconds) between attempts.
DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000"


class Settings(ServiceSettings):
    service_name: str = "notifier"
    http_port: int = 8003
    database_url: str | None = database_url_field("notifier")

    # --- agency webhooks -----------------------------------------------------------------
    # BOTRAM_NOTIFIER_RETRY_SCHEDULE: seconds between attempts, comma-separated.
    notifier_retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    # Each delay is spread by up to this fraction (jitter), so retries of many events to one
    # recovering endpoint do not arrive as one burst.
    webhook_jitter: float = Field(default=0.1, ge=0, le=1)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # At most this many requests in flight per endpoint: a slow agency never starves another.
    webhook_concurrency_per_endpoint: int = Field(default=4, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # A subscription whose deliveries have failed without a single success for this long is
    # disabled (Svix: 5 days).
    webhook_auto_disable_after_seconds: float = Field(default=5 * 24 * 3600, gt=0)
    # After a secret rotation the old secret keeps signing (next to the new one) this long.
    webhook_secret_overlap_seconds: float = Field(default=24 * 3600, ge=0)
    # The longest Retry-After the notifier honours (a misconfigured endpoint may ask for weeks).
    webhook_max_retry_after_seconds: float = Field(default=36000, gt=0)
    # SSRF guard: loopback/private/link-local/metadata URLs are refused in production and
    # allowed in development (an integrator tries a receiver on a laptop). None = by env.
    webhook_allow_internal_urls: bool | None = None

    # --- citizen messages ----------------------------------------------------------------
    sms_provider: Literal["log", "http"] = "log"
    sms_gateway_url: str | None = None
    sms_gateway_token: SecretStr | None = None
    # "Your turn is near" when this many tickets (or fewer) are still ahead; fewer than the
    # tickets each `ticket.called` event names as coming next (`up_next`).
    turn_near_ahead: int = Field(default=3, ge=1, lt=UP_NEXT_LENGTH)
    # At most this many messages to one phone per hour (a flood of events never spams).
    # The public schedule (e.g. the scheduler's `/v1/calendar.ics` or a page listing it), named
    # in the message to a citizen whose ticket still waited when the session closed.
    schedule_url: str | None = Field(default=None, pattern=r"^https?://[^/?#]+(/[^?#]*)?$")
    sms_max_per_phone_per_hour: int = Field(default=6, ge=1)
    sms_poll_seconds: float = Field(default=1.0, gt=0)
    # Opted-out phones are kept as HMAC-SHA256 with this key, never in clear (a plain hash of
    # a phone number is brute-forced in minutes). Production wants 32 random bytes.
    opt_out_key: SecretStr = SecretStr(DEV_OPT_OUT_KEY)

    # --- retention (docs/operations.md) --------------------------------------------------
    # A session's phones go when it closes; these catch a session that never closes.
    contact_retention_hours: float = Field(default=48, gt=0)
    # Finished deliveries (delivered, or dead letters no one replayed) and their attempts.
    delivery_retention_days: float = Field(default=30, gt=0)
    retention_sweep_seconds: float = Field(default=3600, gt=0)

    @field_validator("notifier_retry_schedule")
    @classmethod
    def _schedule_is_seconds(cls, value: str) -> str:
        retry_schedule(value)
        return value

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return ("opt_out_key",)

    @classmethod
    def key_fields(cls) -> tuple[str, ...]:
        return ("opt_out_key",)

    @property
    def ssrf_guard(self) -> bool:
        if self.webhook_allow_internal_urls is None:
            return self.is_production
        return not self.webhook_allow_internal_urls

    def retry_schedule(self) -> tuple[float, ...]:
        return retry_schedule(self.notifier_retry_schedule)


def retry_schedule(value: str) -> tuple[float, ...]:
    """`"5,300,1800"` -> (5.0, 300.0, 1800.0); refuses negatives and garbage."""
    try:
        delays = tuple(float(part) for part in value.split(",") if part.strip())
    except ValueError as error:
        raise ValueError(f"retry schedule must be seconds, comma-separated: {value!r}") from error
    if any(delay < 0 for delay in delays):
        raise ValueError("retry schedule delays must not be negative")
    return delays
