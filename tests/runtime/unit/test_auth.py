"""Access tokens: what is accepted, what is refused, and how the API answers."""

import base64
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from botram_runtime.access import allow, public, routes_without_a_rule
from botram_runtime.actors import Actor, Role
from botram_runtime.auth import InvalidToken, JwksFile, JwksUrl, TokenVerifier
from botram_runtime.problems import install_problem_handlers
from botram_runtime.settings import EMBEDDED_ISSUER
from helpers import TestIssuer

ISSUER = "https://sso.example.go.id/realms/botram"


def claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": "botram",
        "sub": "actor-1",
        "iat": now,
        "exp": now + 600,
        "jti": "t-1",
        "roles": ["desk"],
        "agency": "dukcapil",
    }
    return base | overrides


@pytest.fixture
def key() -> ECKey:
    return ECKey.generate_key("P-256", parameters={"kid": "k1"})


class StaticKeys:
    def __init__(self, *keys: object) -> None:
        self.keys = KeySet(list(keys))  # type: ignore[arg-type]
        self.refreshes = 0

    async def key_set(self, *, refresh: bool = False) -> KeySet:
        self.refreshes += refresh
        return self.keys


def sign(key: object, body: dict[str, object], alg: str = "ES256", kid: str = "k1") -> str:
    return jwt.encode({"alg": alg, "kid": kid}, body, key, algorithms=[alg])  # type: ignore[arg-type]


def public_half(key: ECKey) -> ECKey:
    return ECKey.import_key(key.as_dict(private=False))


async def test_a_token_of_the_trusted_key_gives_the_actor_and_its_confinement(key: ECKey) -> None:
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)

    actor = await verifier.verify(sign(key, claims(services=["ktp-el"])))

    assert actor.sub == "actor-1"
    assert actor.roles == {Role.DESK}
    assert actor.agency == "dukcapil"
    assert actor.services == {"ktp-el"}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "another-api"}, "aud"),
        ({"iss": "https://evil.example"}, "iss"),
        ({"exp": int(time.time()) - 61}, "expired"),
        ({"iat": int(time.time()) + 3600}, "future"),
    ],
)
async def test_a_token_with_wrong_claims_is_refused(
    key: ECKey, change: dict[str, object], reason: str
) -> None:
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)

    with pytest.raises(InvalidToken, match=reason):
        await verifier.verify(sign(key, claims(**change)))


@pytest.mark.parametrize("missing", ["sub", "exp", "iat", "jti", "aud", "iss"])
async def test_a_token_without_a_required_claim_is_refused(key: ECKey, missing: str) -> None:
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)
    body = claims()
    del body[missing]

    with pytest.raises(InvalidToken):
        await verifier.verify(sign(key, body))


async def test_up_to_sixty_seconds_of_clock_skew_are_tolerated(key: ECKey) -> None:
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER, leeway_seconds=3600)
    token = sign(key, claims(exp=int(time.time()) - 30))

    assert (await verifier.verify(token)).sub == "actor-1"
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(key, claims(exp=int(time.time()) - 90)))


async def test_a_token_signed_by_another_key_is_refused(key: ECKey) -> None:
    forger = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)

    with pytest.raises(InvalidToken):
        await verifier.verify(sign(forger, claims()))


def part(value: dict[str, object] | bytes) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def test_alg_none_is_refused(key: ECKey) -> None:
    unsigned = f"{part({'alg': 'none', 'kid': 'k1'})}.{part(claims())}."
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)

    with pytest.raises(InvalidToken):
        await verifier.verify(unsigned)


async def test_hmac_signed_with_the_public_key_is_refused() -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    public_pem = rsa.as_pem(private=False)
    # Forged by hand: the classic attack signs HS256 with the verifier's public key as secret.
    signing_input = f"{part({'alg': 'HS256', 'kid': 'k1'})}.{part(claims())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{part(mac)}"
    verifier = TokenVerifier(StaticKeys(RSAKey.import_key(public_pem)), issuer=ISSUER)

    with pytest.raises(InvalidToken):
        await verifier.verify(forged)


async def test_an_unknown_kid_refreshes_the_keys_once_then_is_refused(key: ECKey) -> None:
    keys = StaticKeys(public_half(key))
    verifier = TokenVerifier(keys, issuer=ISSUER)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "k9"})

    with pytest.raises(InvalidToken):
        await verifier.verify(sign(stranger, claims(), kid="k9"))
    assert keys.refreshes == 1


async def test_garbage_is_refused_without_echoing_it(key: ECKey) -> None:
    verifier = TokenVerifier(StaticKeys(public_half(key)), issuer=ISSUER)

    with pytest.raises(InvalidToken) as refused:
        await verifier.verify("secret-looking-garbage")
    assert "secret-looking-garbage" not in str(refused.value)


async def test_the_jwks_url_is_refetched_after_a_rotation_but_not_more_than_the_bound() -> None:
    old = ECKey.generate_key("P-256", parameters={"kid": "old"})
    new = ECKey.generate_key("P-256", parameters={"kid": "new"})
    served = {"keys": [old.as_dict(private=False)]}
    fetches = []

    def handler(request: httpx.Request) -> httpx.Response:
        fetches.append(request.url)
        return httpx.Response(200, json=served)

    clock = [0.0]
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    keys = JwksUrl(
        "https://sso.example/jwks",
        client=client,
        min_refresh_seconds=30,
        monotonic=lambda: clock[0],
    )
    verifier = TokenVerifier(keys, issuer=ISSUER)

    assert (await verifier.verify(sign(old, claims(), kid="old"))).sub == "actor-1"
    served["keys"] = [new.as_dict(private=False)]  # the provider rotated its key
    clock[0] = 31.0
    assert (await verifier.verify(sign(new, claims(), kid="new"))).sub == "actor-1"
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(old, claims(), kid="old"))  # the removed key
    for _ in range(20):  # a flood of unknown kids: no new fetch inside the bound
        with pytest.raises(InvalidToken):
            await verifier.verify(sign(old, claims(), kid="forged"))

    assert len(fetches) == 2
    await client.aclose()


async def test_the_embedded_key_pair_verifies_tokens_of_botram_token(tmp_path: Path) -> None:
    issuer = TestIssuer(tmp_path)
    verifier = TokenVerifier(JwksFile(issuer.jwks_file), issuer=EMBEDDED_ISSUER)

    actor = await verifier.verify(issuer.token("front-desk"))

    assert actor.roles == {Role.FRONT_DESK}


async def test_a_jwks_file_is_looked_at_again_once_its_check_interval_has_passed(
    tmp_path: Path,
) -> None:
    issuer = TestIssuer(tmp_path)
    clock = [0.0]
    keys = JwksFile(issuer.jwks_file, check_seconds=1.0, monotonic=lambda: clock[0])
    first = await keys.key_set()
    rotated = KeySet([ECKey.generate_key("P-256", {"kid": "rotated"})])

    def rewrite(key_set: KeySet, seconds_later: float) -> None:
        issuer.jwks_file.write_text(json.dumps(key_set.as_dict()))
        moment = time.time() + seconds_later  # a new mtime even on a coarse clock
        os.utime(issuer.jwks_file, (moment, moment))

    def kids(key_set: KeySet) -> set[str | None]:
        return {key.kid for key in key_set.keys}

    rewrite(rotated, 5)
    assert await keys.key_set() is first  # within the interval: the file is not read
    assert kids(await keys.key_set(refresh=True)) == {"rotated"}  # a refresh reads it now
    rewrite(first, 10)
    assert kids(await keys.key_set()) == {"rotated"}
    clock[0] = 1.5
    assert kids(await keys.key_set()) == kids(first)  # past the interval: read again


# --- how routes answer --------------------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> tuple[FastAPI, TestIssuer]:
    issuer = TestIssuer(tmp_path)
    app = FastAPI()
    app.state.token_verifier = TokenVerifier(JwksFile(issuer.jwks_file), issuer=EMBEDDED_ISSUER)
    install_problem_handlers(app)

    @app.post("/v1/things")
    async def make(actor: Actor = Depends(allow(Role.OPERATOR))) -> dict[str, str]:
        return {"by": actor.sub}

    @app.get("/v1/open", dependencies=[Depends(public())])
    async def read() -> dict[str, str]:
        return {"ok": "yes"}

    return app, issuer


async def call(app: FastAPI, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/v1/things", headers=headers or {})


async def test_no_token_answers_401_with_a_bearer_challenge(
    api: tuple[FastAPI, TestIssuer],
) -> None:
    response = await call(api[0])

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="botram"'


async def test_a_bad_token_answers_401_invalid_token_without_echoing_it(
    api: tuple[FastAPI, TestIssuer],
) -> None:
    response = await call(api[0], {"Authorization": "Bearer not-a-jwt-at-all"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "not-a-jwt-at-all" not in response.text


async def test_a_valid_token_without_the_role_answers_403_naming_it(
    api: tuple[FastAPI, TestIssuer],
) -> None:
    app, issuer = api

    response = await call(app, issuer.headers("viewer"))

    assert response.status_code == 403
    assert response.json()["type"].endswith("/role-required")
    assert "operator" in response.json()["detail"]


async def test_the_right_role_passes_and_the_route_sees_the_actor(
    api: tuple[FastAPI, TestIssuer],
) -> None:
    app, issuer = api

    response = await call(app, issuer.headers("operator", subject="ops-7"))

    assert response.status_code == 200
    assert response.json() == {"by": "ops-7"}


def test_routes_without_a_rule_are_found(api: tuple[FastAPI, TestIssuer]) -> None:
    app, _ = api

    @app.delete("/v1/things/{id}")
    async def forgot_the_rule(id: str) -> None:
        return None

    assert routes_without_a_rule(app) == ["DELETE /v1/things/{id}"]


async def test_a_verified_token_is_remembered_briefly_and_never_past_its_expiry(
    key: ECKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded: list[str] = []
    decode = jwt.decode

    def counted(token: str, *args: Any, **kwargs: Any) -> Any:
        decoded.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    clock = [time.time()]
    verifier = TokenVerifier(
        StaticKeys(public_half(key)),
        issuer=ISSUER,
        now=lambda: clock[0],
        leeway_seconds=0,
        cache_seconds=30,
    )
    token = sign(key, claims(exp=int(clock[0]) + 20))

    first = await verifier.verify(token)
    again = await verifier.verify(token)
    checks_while_remembered = len(decoded)
    clock[0] += 25  # past `exp` (20 s) though within the cache's 30 s

    assert again == first and checks_while_remembered == 1
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(token)


async def test_a_remembered_token_is_verified_again_once_the_keys_change(key: ECKey) -> None:
    keys = StaticKeys(public_half(key))
    verifier = TokenVerifier(keys, issuer=ISSUER)
    token = sign(key, claims())
    await verifier.verify(token)

    successor = ECKey.generate_key("P-256", parameters={"kid": "k2"})
    keys.keys = KeySet([public_half(successor)])  # the trusted key was removed

    with pytest.raises(InvalidToken):
        await verifier.verify(token)
