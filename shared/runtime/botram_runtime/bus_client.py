"""How a Botram process connects to NATS: its credentials, TLS and its own inbox prefix.

One place builds the connection options from the `BOTRAM_NATS_*` settings, for FastStream's
broker (`security`) and for plain nats-py clients (`connect_options`: reporting's rebuild,
the operator's commands). Without credentials the client connects anonymously, which only
a server of one's own allows (production refuses to start so: `check_bus_credentials`).
"""

import ssl
from typing import Any

from faststream.nats.security import (
    NatsCredentials,
    NatsNKey,
    NatsSecurity,
    NatsUserPassword,
    parse_security,
)
from faststream.security import BaseSecurity

from botram_runtime.settings import ServiceSettings

CONNECT_TIMEOUT_SECONDS = 5


def tls_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """TLS with the configured CA (else the system's), and a client certificate if set."""
    if settings.nats_tls_ca is None and settings.nats_tls_cert is None:
        return None
    context = ssl.create_default_context(
        ssl.Purpose.SERVER_AUTH,
        cafile=str(settings.nats_tls_ca) if settings.nats_tls_ca else None,
    )
    if settings.nats_tls_cert is not None and settings.nats_tls_key is not None:
        context.load_cert_chain(settings.nats_tls_cert, settings.nats_tls_key)
    return context


def security(settings: ServiceSettings) -> BaseSecurity | None:
    """FastStream's description of the credentials and TLS (None: anonymous, plain)."""
    tls = tls_context(settings)
    if settings.nats_nkey_seed is not None:
        return NatsNKey.from_seed(settings.nats_nkey_seed.get_secret_value(), ssl_context=tls)
    if settings.nats_creds is not None:
        return NatsCredentials.from_file(settings.nats_creds, ssl_context=tls)
    if settings.nats_user is not None and settings.nats_password is not None:
        return NatsUserPassword(
            settings.nats_user, settings.nats_password.get_secret_value(), ssl_context=tls
        )
    return NatsSecurity(ssl_context=tls) if tls is not None else None


def connect_options(settings: ServiceSettings, *, inbox_prefix: str) -> dict[str, Any]:
    """Keyword arguments of `nats.connect` for a plain nats-py client."""
    return {
        "servers": settings.nats_url.split(","),
        "inbox_prefix": inbox_prefix,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        **parse_security(security(settings)),
    }
