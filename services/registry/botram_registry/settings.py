"""Registry configuration (`BOTRAM_*` environment variables)."""

from pydantic import Field, SecretStr

from botram_shared.settings import ServiceSettings, database_url_field

DEV_PSEUDONYM_KEY = "dev-only-pseudonym-key-change-me"


class Settings(ServiceSettings):
    service_name: str = "registry"
    http_port: int = 8002
    database_url: str | None = database_url_field("registry")
    # HMAC key of the citizen pseudonym in events. Production refuses the development default.
    pseudonym_key: SecretStr = SecretStr(DEV_PSEUDONYM_KEY)
    # Fair queue: at most this many priority calls (lansia, disabilitas, ibu hamil)
    # in a row while regular tickets wait.
    priority_calls_per_regular: int = Field(default=2, ge=1)
    lansia_age: int = Field(default=60, ge=1)

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return ("pseudonym_key",)
