"""A service trusting an identity provider's JWKS served over HTTP, through a key rotation.

The fixture plays Keycloak: `{"keys": [...]}` at `/realms/botram/protocol/openid-connect/certs`
on 127.0.0.1, served by uvicorn in a thread. Reporting is configured with `auth_issuer` and
`auth_jwks_url` (as in production) and a short refetch bound, so the test need not wait 30 s.
"""

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from botram_cli.nats_server import EmbeddedNatsServer
from botram_reporting.main import create_app
from botram_reporting.settings import Settings
from helpers import assert_problem, eventually, running

CERTS = "/realms/botram/protocol/openid-connect/certs"
START_STOP_SECONDS = 10


@dataclass
class IdentityProvider:
    """A Keycloak-shaped issuer: the keys it publishes and the tokens it signs."""

    base_url: str = ""
    published: list[ECKey] = field(default_factory=list)
    fetches: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/botram"

    @property
    def jwks_url(self) -> str:
        return self.base_url + CERTS

    def publish(self, *keys: ECKey) -> None:
        with self.lock:
            self.published = list(keys)

    def jwks(self) -> dict[str, Any]:
        with self.lock:
            self.fetches += 1
            return {"keys": [k.as_dict(private=False) | {"use": "sig"} for k in self.published]}

    def token(self, key: ECKey, *roles: str) -> dict[str, str]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": "botram",
            "sub": "service-account-botram-viewer",
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
            "roles": list(roles),
        }
        header = {"alg": "ES256", "typ": "at+jwt", "kid": str(key.kid)}
        return {"Authorization": f"Bearer {jwt.encode(header, claims, key, algorithms=['ES256'])}"}


@pytest.fixture
def identity_provider() -> Iterator[IdentityProvider]:
    """The JWKS over real HTTP on a free port; started and stopped within bounded waits."""
    provider = IdentityProvider()

    async def certs(_request: Request) -> JSONResponse:
        return JSONResponse(provider.jwks())

    config = uvicorn.Config(
        Starlette(routes=[Route(CERTS, certs)]),
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="off",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="jwks-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_STOP_SECONDS
    while not server.started:
        assert time.monotonic() < deadline, "the JWKS server did not start"
        assert thread.is_alive(), "the JWKS server stopped while starting"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    provider.base_url = f"http://127.0.0.1:{port}"
    try:
        yield provider
    finally:
        server.should_exit = True  # uvicorn's own stop flag
        thread.join(timeout=START_STOP_SECONDS)
        assert not thread.is_alive(), "the JWKS server did not stop"


async def test_a_key_rotation_at_the_identity_provider_needs_no_restart(
    identity_provider: IdentityProvider, nats_server: EmbeddedNatsServer, database_url: str
) -> None:
    key_a = ECKey.generate_key("P-256", parameters={"kid": "key-a"})
    key_b = ECKey.generate_key("P-256", parameters={"kid": "key-b"})
    identity_provider.publish(key_a)
    settings = Settings(
        nats_url=nats_server.url,
        database_url=database_url,
        auth_issuer=identity_provider.issuer,
        auth_jwks_url=identity_provider.jwks_url,
        auth_jwks_min_refresh_seconds=0.5,
    )
    report = "/v1/reports/demand"

    async with running(create_app(settings), headers={}) as client:
        before = await client.get(report, headers=identity_provider.token(key_a, "viewer"))
        identity_provider.publish(key_b)  # the provider rotates: A removed, B in

        async def accepted_with_b() -> httpx.Response | None:
            answer = await client.get(report, headers=identity_provider.token(key_b, "viewer"))
            return answer if answer.status_code == 200 else None

        after = await eventually(accepted_with_b, within=10, interval=0.1)
        removed = await client.get(report, headers=identity_provider.token(key_a, "viewer"))

    assert before.status_code == 200, before.text
    assert after.json()["level"] == "kecamatan"
    assert_problem(removed, 401, "unauthenticated")
    assert 'error="invalid_token"' in removed.headers["www-authenticate"]
    assert identity_provider.fetches >= 2  # fetched at start and again after the rotation
