"""Who is calling: OAuth 2.0 bearer access tokens in JWT form (RFC 9068), verified locally.

Every service checks a token itself against a JWKS; no service asks another. Two key sources
share one code path:
- production: the regency's identity provider (`BOTRAM_AUTH_ISSUER`, `BOTRAM_AUTH_JWKS_URL`,
  e.g. Keycloak), fetched over HTTP, cached, refreshed (bounded) when a `kid` is unknown;
- the embedded default: `botram up` keeps a key pair under `./var/auth/` and the services
  read its public JWKS from a file (`BOTRAM_AUTH_JWKS_FILE`), re-read when it changes.

Only asymmetric algorithms are accepted, so `alg: none` and HMAC signed with a public key are
refused; `iss`, `aud`, `exp`, `iat`, `sub` and `jti` are required; 60 s of clock skew at most.
A verified token is remembered briefly (`VERIFIED_CACHE_SECONDS`, bounded by its `exp` and by
the key set that verified it), keyed by the raw token: a changed byte is a different token.
"""

import asyncio
import json
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple, Protocol, cast

import httpx
import structlog
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from botram_runtime.actors import Actor, Role

log = structlog.get_logger(__name__)

# Asymmetric only. EdDSA is the RFC 8037 name Keycloak uses; Ed25519 its RFC 9864 successor.
ALGORITHMS = ("ES256", "ES384", "RS256", "RS384", "PS256", "EdDSA", "Ed25519")
AUDIENCE = "botram"
MAX_LEEWAY_SECONDS = 60
# An unknown `kid` refreshes the JWKS at most this often: a flood of forged kids must not
# turn into a flood of requests to the identity provider.
JWKS_MIN_REFRESH_SECONDS = 30.0
JWKS_MAX_AGE_SECONDS = 600.0
JWKS_FETCH_TIMEOUT_SECONDS = 5.0
# How often a JWKS file is looked at for a change (a key added or removed).
JWKS_FILE_CHECK_SECONDS = 1.0
MAX_TOKEN_BYTES = 8192
# A verified token is remembered this long (never past its `exp`, and only while the key set
# that verified it is the current one), so a desk sending the same token on every request pays
# for the signature once (docs/BENCHMARKS.md); at most this many tokens are remembered.
VERIFIED_CACHE_SECONDS = 30.0
VERIFIED_CACHE_SIZE = 4096


class InvalidToken(Exception):
    """The token is missing, malformed, forged, expired or not meant for Botram."""


class KeySource(Protocol):
    """Where the public keys come from."""

    async def key_set(self, *, refresh: bool = False) -> KeySet: ...


class JwksFile:
    """A JWKS on disk (the embedded default), re-read when the file changes.

    The file is looked at once per `check_seconds` at most (and on `refresh`, when a token
    names a key not in the set): a `stat` per request was 1 % of a check-in's CPU. A key
    removed from the file stops verifying within that time.
    """

    def __init__(
        self,
        path: Path,
        *,
        check_seconds: float = JWKS_FILE_CHECK_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._check_seconds = check_seconds
        self._monotonic = monotonic
        self._checked_at = -math.inf
        self._mtime: float | None = None
        self._keys: KeySet | None = None

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        now = self._monotonic()
        if self._keys is not None and not refresh and now - self._checked_at < self._check_seconds:
            return self._keys
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError as error:
            raise InvalidToken(f"no JWKS at {self.path}") from error
        if self._keys is None or mtime != self._mtime:
            self._keys = KeySet.import_key_set(cast(Any, _json(self.path.read_bytes())))
            self._mtime = mtime
        self._checked_at = now
        return self._keys


class JwksUrl:
    """A JWKS served over HTTP by an identity provider, cached with a bounded refresh."""

    def __init__(
        self,
        url: str,
        *,
        client: httpx.AsyncClient | None = None,
        min_refresh_seconds: float = JWKS_MIN_REFRESH_SECONDS,
        max_age_seconds: float = JWKS_MAX_AGE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._client = client
        self._min_refresh = min_refresh_seconds
        self._max_age = max_age_seconds
        self._monotonic = monotonic
        self._keys: KeySet | None = None
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        age = self._monotonic() - self._fetched_at
        stale = self._keys is None or age > self._max_age or (refresh and age > self._min_refresh)
        if stale:
            async with self._lock:
                age = self._monotonic() - self._fetched_at
                if (
                    self._keys is None
                    or age > self._max_age
                    or (refresh and age > self._min_refresh)
                ):
                    await self._fetch()
        if self._keys is None:
            raise InvalidToken("the identity provider's keys are not available")
        return self._keys

    def _stale(self, refresh: bool) -> bool:
        age = self._monotonic() - self._fetched_at
        return self._keys is None or age > self._max_age or (refresh and age > self._min_refresh)

    async def _fetch(self) -> None:
        self._fetched_at = self._monotonic()
        try:
            client = self._client or httpx.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_SECONDS)
            try:
                response = await client.get(self.url, timeout=JWKS_FETCH_TIMEOUT_SECONDS)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            finally:
                if self._client is None:
                    await client.aclose()
            log.info("jwks_fetched", url=self.url, keys=len(self._keys.keys))
        except Exception as error:  # keep serving with the keys we have
            log.warning("jwks_fetch_failed", url=self.url, error=repr(error))


class _Verified(NamedTuple):
    """A token verified already: its actor, the key set that verified it, until when."""

    actor: Actor
    keys: KeySet
    until: float


class TokenVerifier:
    """Verifies bearer tokens and turns them into `Actor`s."""

    def __init__(
        self,
        keys: KeySource,
        *,
        issuer: str,
        audience: str = AUDIENCE,
        leeway_seconds: int = MAX_LEEWAY_SECONDS,
        now: Callable[[], float] = time.time,
        cache_seconds: float = VERIFIED_CACHE_SECONDS,
    ) -> None:
        self._keys = keys
        self.issuer = issuer
        self.audience = audience
        self._leeway = min(leeway_seconds, MAX_LEEWAY_SECONDS)
        self._now = now
        self._cache_seconds = cache_seconds
        self._verified: dict[str, _Verified] = {}

    async def verify(self, token: str) -> Actor:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("token too long")
        keys = await self._keys.key_set()
        now = self._now()
        known = self._verified.get(token)
        if known is not None and known.keys is keys and now < known.until:
            return known.actor
        actor, claims, keys = await self._verify(token, keys)
        self._remember(token, _Verified(actor, keys, min(now + self._cache_seconds, claims["exp"])))
        return actor

    def _remember(self, token: str, verified: _Verified) -> None:
        if self._cache_seconds <= 0:
            return
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            now = self._now()
            self._verified = {t: v for t, v in self._verified.items() if now < v.until}
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
        self._verified[token] = verified

    async def _verify(self, token: str, keys: KeySet) -> tuple[Actor, dict[str, Any], KeySet]:
        """The actor and claims of a token checked against `keys` (refreshed once when its
        `kid` is unknown), and the key set that verified it."""
        try:
            try:
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            except InvalidKeyIdError:
                # A key rotation at the identity provider: fetch the keys again (bounded).
                keys = await self._keys.key_set(refresh=True)
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            claims = decoded.claims
            jwt.JWTClaimsRegistry(
                now=lambda: int(self._now()),
                leeway=self._leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.audience},
                sub={"essential": True},
                exp={"essential": True},
                iat={"essential": True},
                jti={"essential": True},
            ).validate(claims)
        except InvalidToken:
            raise
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise InvalidToken(_reason(error)) from error
        if claims["iat"] > self._now() + self._leeway:
            raise InvalidToken("token issued in the future")
        return actor_of(claims), claims, keys


def actor_of(claims: dict[str, Any]) -> Actor:
    """The actor a verified token's claims describe (unknown roles are ignored)."""
    raw_roles = claims.get("roles", [])
    if isinstance(raw_roles, str):
        raw_roles = raw_roles.split()
    if not isinstance(raw_roles, list):
        raise InvalidToken("claim roles must be a list")
    known = {role.value for role in Role}
    roles = frozenset(Role(r) for r in raw_roles if isinstance(r, str) and r in known)
    agency = claims.get("agency")
    services = claims.get("services")
    if agency is not None and not isinstance(agency, str):
        raise InvalidToken("claim agency must be a string")
    if services is not None and (
        not isinstance(services, list) or not all(isinstance(s, str) for s in services)
    ):
        raise InvalidToken("claim services must be a list of service codes")
    return Actor(
        sub=str(claims["sub"]),
        roles=roles,
        agency=agency,
        services=frozenset(services) if services is not None else None,
        token_id=str(claims.get("jti")),
        expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
    )


def _reason(error: Exception) -> str:
    """Why a token was refused, without echoing any part of it."""
    if isinstance(error, JoseError):
        return str(error.description or error.error.replace("_", " "))
    return "malformed token"


def _json(raw: bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise InvalidToken("a JWKS is a JSON object")
    return value
