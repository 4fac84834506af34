"""Registry configuration (`BOTRAM_*` environment variables)."""

from pydantic import Field, SecretStr

from botram_runtime.settings import ServiceSettings, database_url_field

DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"


class Settings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = 8002
    database_url: str | None = database_url_field("registry")
    # HMAC key of the citizen pseudonym in events. Production refuses the development default
    # and any key under 32 bytes of key material (`openssl rand -hex 32`).
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    # Fair queue: at most this many priority calls (lansia, disabilitas, ibu hamil)
    # in a row while regular tickets wait.
    priority_calls_per_regular: int = Field(default=2, ge=1)
    lansia_age: int = Field(default=60, ge=1)
    # UU 27/2022: NIK, name and phone of a citizen not seen for this long are erased
    # (the pseudonym, sex, birth date and check-in history stay; events never had them).
    personal_data_retention_days: float = Field(default=30, gt=0)
    retention_sweep_seconds: float = Field(default=3600, gt=0)
    # A desk's note on a ticket is erased this long after the ticket was completed.
    ticket_note_retention_days: float = Field(default=30, gt=0)
    # Group commit: new check-ins arriving while others are being stored share one
    # transaction, up to this many (1 stores each on its own). See usecases/check_in.py.
    check_in_group_max: int = Field(default=64, ge=1, le=1000)
    # The phone of a citizen a desk served or referred is kept this long after the session
    # (not erased with the others), for the one message of an agency's follow-up (a document
    # ready days later); it goes as soon as that follow-up is recorded. 0 keeps none.
    follow_up_contact_days: float = Field(default=30, ge=0)
    # A desk that acted on a service within this window counts as active for wait estimates.
    desk_active_minutes: float = Field(default=30, gt=0)
    # Where citizens reach this service (the status links of tickets, their QR codes and SMS);
    # unset: the address the request came to.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#]+(/[^?#]*)?$")
    # An offline desk's batch is still accepted this long after its session closed (a village
    # desk that gets its connection back in the evening, or days later); then refused (409).
    offline_grace_hours: float = Field(default=72, ge=0)
    # How often a citizen's ticket page asks for its status again.
    ticket_page_refresh_seconds: float = Field(default=15, gt=0)

    # Pre-registration (domain/pre_registration.py): arrival slots of this many minutes from a
    # session's start to its end, each for at most this many citizens; a pre-registered
    # citizen on time joins ahead of walk-ins who came less than the head start before them.
    pre_registration_slot_minutes: int = Field(default=30, ge=5, le=240)
    pre_registration_slot_capacity: int = Field(default=10, ge=1, le=1000)
    pre_registration_head_start_minutes: float = Field(default=15, ge=0, le=240)

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return ("pseudonym_key",)

    @classmethod
    def key_fields(cls) -> tuple[str, ...]:
        return ("pseudonym_key",)
