"""Configuration shared by every service: `BOTRAM_*` environment variables."""

import base64
import binascii
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from botram_runtime import regency
from botram_runtime.stream import MAX_BYTES, StreamOptions

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
VAR_DIR = Path("var")
# The embedded default's token issuer: `botram up` keeps its key pair under ./var/auth/.
EMBEDDED_ISSUER = "urn:botram:embedded"
EMBEDDED_AUTH_DIR = VAR_DIR / "auth"
# An HMAC key (the pseudonym of a NIK, the hash of an opted-out phone) guards values that are
# brute-forced in minutes without it: production wants 32 random bytes (`openssl rand -hex 32`).
MIN_KEY_BYTES = 32


def key_material_bytes(key: str) -> int:
    """How many bytes of key material a key holds: hex and base64 count what they encode
    (`openssl rand -hex 32` and `-base64 32` give 32), anything else its UTF-8 length."""
    text = key.strip()
    if len(text) % 2 == 0:
        try:
            return len(bytes.fromhex(text))
        except ValueError:
            pass
    try:
        return len(base64.b64decode(text, altchars=b"-_", validate=True))
    except (binascii.Error, ValueError):
        return len(text.encode())


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ServiceSettings(BaseSettings):
    """Settings every Botram service reads; each service subclasses it.

    `BOTRAM_DATABASE_URL` applies to whichever service reads it;
    `BOTRAM_<SERVICE>_DATABASE_URL` wins, so one shell can configure all four.
    """

    model_config = SettingsConfigDict(env_prefix="BOTRAM_", extra="ignore", populate_by_name=True)

    service_name: str = "botram"
    env: Environment = Environment.DEVELOPMENT
    nats_url: str = DEFAULT_NATS_URL
    # NATS credentials (docs/operations.md, "The bus"): the service's nkey seed (`SU...`), or
    # a credentials file (JWT-based accounts), or a user and password. None of them: connect
    # without (a server of your own that needs none). TLS: the CA that signed the server's
    # certificate, and a client certificate and key when the server verifies clients.
    nats_nkey_seed: SecretStr | None = None
    nats_creds: Path | None = None
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_tls_ca: Path | None = None
    nats_tls_cert: Path | None = None
    nats_tls_key: Path | None = None
    database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # A request body larger than this is refused with 413 before it is read (botram_runtime.edge).
    http_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    log_level: str = "INFO"
    log_json: bool = False
    # The regency Botram runs in (docs/operations.md, "Another regency"): names as the `areaid`
    # package spells them (its kecamatans and desas come from there), the Kemendagri/BPS code
    # NIKs of its residents start with ("32.15" or "3215"). The SMS signature and the calendar
    # UIDs' domain follow from the name unless set (`Botram Kab. Karawang`,
    # `botram.karawangkab.go.id`).
    province: str = "Jawa Barat"
    regency: str = Field(
        default="Kabupaten Bekasi",
        min_length=1,
        validation_alias=AliasChoices("BOTRAM_REGENCY_NAME", "BOTRAM_REGENCY", "regency"),
    )
    regency_code: str = "3216"
    sms_signature: str = Field(default="", max_length=40)
    calendar_domain: str = Field(
        default="", pattern=r"^$|^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"
    )
    # SQLite statements run inline on the event loop over one connection instead of on
    # aiosqlite's worker thread: 4-6x per statement here (docs/BENCHMARKS.md). `false` goes
    # back to plain aiosqlite, e.g. if another process must write the same database file.
    sqlite_inline: bool = True
    # Access tokens (docs/operations.md, "Access"): production names the identity provider;
    # the embedded default trusts the public key `botram up` keeps under ./var/auth/.
    auth_issuer: str | None = None
    auth_jwks_url: str | None = None
    auth_jwks_file: Path = EMBEDDED_AUTH_DIR / "jwks.json"
    auth_audience: str = "botram"
    auth_leeway_seconds: int = Field(default=60, ge=0, le=60)
    # A token naming an unknown `kid` fetches the JWKS again at most this often (a flood of
    # forged kids must not become a flood of requests to the identity provider).
    auth_jwks_min_refresh_seconds: float = Field(default=30.0, gt=0, le=3600)
    # The pages sign in with the identity provider's public client (authorization code + PKCE).
    auth_web_client_id: str = "botram-web"
    auth_web_scope: str = "openid"
    # Browser origins allowed to call the API (CORS); closed by default.
    cors_origins: list[str] = Field(default_factory=list)
    outbox_poll_seconds: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=500, gt=0)
    # Deliveries of a well-formed event that keeps failing before it goes to the dead letter
    # with its last error (docs/operations.md, "Failure modes").
    max_deliver: int = Field(default=10, ge=2, le=1000)
    # Seconds JetStream waits for a consumer's answer before it delivers a message again
    # (to another instance, or to this one once it resumes: a paused or frozen process).
    ack_wait: float = Field(default=30.0, ge=1, le=3600)
    # SIGTERM: stop fetching, settle or hand back what is held, flush the outbox relay, close
    # the bus and the database, all within this many seconds.
    shutdown_grace: float = Field(default=10.0, gt=0, le=300)
    # PostgreSQL: no statement runs, and no lock is waited for, longer than this (seconds);
    # a stuck lock answers an error instead of holding a request forever.
    db_statement_timeout: float = Field(default=30.0, gt=0, le=3600)
    db_lock_timeout: float = Field(default=10.0, gt=0, le=3600)
    # The streams (botram_runtime.stream, docs/scaling.md): replicas (3 on a 3-node NATS
    # cluster), the public stream's room in bytes, the server tags its replicas go on (a new
    # stream; JSON list). Start-up creates a missing stream with these and only ever raises an
    # existing one's replicas and limits: an operator's higher values stay (logged).
    stream_replicas: int = Field(default=1, ge=1, le=5)
    stream_max_bytes: int = Field(default=MAX_BYTES, gt=0)
    stream_placement_tags: list[str] = Field(default_factory=list)

    def stream_options(self) -> StreamOptions:
        return StreamOptions(
            replicas=self.stream_replicas,
            max_bytes=self.stream_max_bytes,
            placement_tags=tuple(self.stream_placement_tags),
        )

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    def resolved_database_url(self) -> str:
        """The configured database URL, or a SQLite file per service under ./var/."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{VAR_DIR / (self.service_name + '.db')}"

    @property
    def token_issuer(self) -> str:
        return self.auth_issuer or EMBEDDED_ISSUER

    def check_identity_provider(self) -> None:
        """Production trusts only the regency's identity provider, never a local key file."""
        if self.is_production and not (self.auth_issuer and self.auth_jwks_url):
            raise ValueError(
                "BOTRAM_AUTH_ISSUER and BOTRAM_AUTH_JWKS_URL must name the identity provider "
                "when BOTRAM_ENV=production"
            )

    def check_bus_credentials(self) -> None:
        """Production connects to NATS as its own user: an anonymous bus trusts everyone."""
        if self.is_production and not self.has_nats_credentials:
            raise ValueError(
                "BOTRAM_NATS_NKEY_SEED (or BOTRAM_NATS_CREDS, BOTRAM_NATS_USER and "
                "BOTRAM_NATS_PASSWORD, or a client certificate) must be set when "
                "BOTRAM_ENV=production"
            )

    @property
    def has_nats_credentials(self) -> bool:
        return bool(self.nats_nkey_seed or self.nats_creds or self.nats_user or self.nats_tls_cert)

    @field_validator("regency_code")
    @classmethod
    def _regency_code_digits(cls, value: str) -> str:
        return regency.regency_code(value)

    @model_validator(mode="after")
    def _regency_defaults(self) -> "ServiceSettings":
        self.sms_signature = self.sms_signature.strip() or regency.sms_signature(self.regency)
        self.calendar_domain = self.calendar_domain or regency.calendar_domain(self.regency)
        return self

    @property
    def regency_short_name(self) -> str:
        """`Kab. Karawang`: page headers and titles."""
        return regency.short_name(self.regency)

    @model_validator(mode="after")
    def _one_way_to_authenticate_to_nats(self) -> "ServiceSettings":
        ways = [self.nats_nkey_seed, self.nats_creds, self.nats_user or self.nats_password]
        if sum(way is not None for way in ways) > 1:
            raise ValueError(
                "set only one of BOTRAM_NATS_NKEY_SEED, BOTRAM_NATS_CREDS and "
                "BOTRAM_NATS_USER/BOTRAM_NATS_PASSWORD"
            )
        if (self.nats_user is None) != (self.nats_password is None):
            raise ValueError("BOTRAM_NATS_USER and BOTRAM_NATS_PASSWORD go together")
        if (self.nats_tls_cert is None) != (self.nats_tls_key is None):
            raise ValueError("BOTRAM_NATS_TLS_CERT and BOTRAM_NATS_TLS_KEY go together")
        return self

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> "ServiceSettings":
        if self.is_production:
            for name in self.secret_fields():
                value = getattr(self, name)
                secret = value.get_secret_value() if hasattr(value, "get_secret_value") else value
                if not secret or str(secret).startswith("dev-"):
                    raise ValueError(
                        f"BOTRAM_{name.upper()} must be set to a real secret "
                        "when BOTRAM_ENV=production"
                    )
            for name in self.key_fields():
                key = getattr(self, name).get_secret_value()
                if key_material_bytes(key) < MIN_KEY_BYTES:
                    raise ValueError(
                        f"BOTRAM_{name.upper()} must hold at least {MIN_KEY_BYTES} random bytes "
                        "when BOTRAM_ENV=production (e.g. `openssl rand -hex 32`)"
                    )
        return self

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        """Names of fields that must not keep their development default in production."""
        return ()

    @classmethod
    def key_fields(cls) -> tuple[str, ...]:
        """Secret fields that are HMAC keys: production wants `MIN_KEY_BYTES` of material."""
        return ()


def database_url_field(service: str) -> Any:
    """A `database_url` field read from `BOTRAM_<SERVICE>_DATABASE_URL` or `BOTRAM_DATABASE_URL`."""
    return Field(
        default=None,
        validation_alias=AliasChoices(
            f"BOTRAM_{service.upper()}_DATABASE_URL", "BOTRAM_DATABASE_URL"
        ),
    )
