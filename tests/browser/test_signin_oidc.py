"""Signing in to a page through an identity provider: OIDC authorization code with PKCE.

A small OpenID provider runs over HTTP beside the scheduler (discovery, authorize, token with
the S256 check of the code verifier, JWKS, end session), as Keycloak's public client
`botram-web` would answer; the scheduler trusts only that provider's keys.
"""

import base64
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import pytest
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey
from playwright.sync_api import Page, expect

from botram_cli.tokens import ensure_key_pair, mint_token
from botram_runtime.actors import Role
from helpers import LiveService, free_port


def identity_provider(keys: Path, issuer: str) -> FastAPI:
    """An OpenID provider with one user, a planner, who signs in at once."""
    provider = FastAPI()
    provider.add_middleware(CORSMiddleware, allow_origins=["*"], allow_headers=["*"])
    pending: dict[str, dict[str, str]] = {}
    provider.state.exchanged = []

    @provider.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "end_session_endpoint": f"{issuer}/logout",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
        }

    @provider.get("/auth")
    async def authorize(
        client_id: str,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        code_challenge_method: str,
        response_type: str,
        nonce: str | None = None,
    ) -> RedirectResponse:
        assert (client_id, response_type, code_challenge_method) == ("botram-web", "code", "S256")
        code = secrets.token_urlsafe(16)
        pending[code] = {"challenge": code_challenge, "redirect_uri": redirect_uri}
        if nonce:
            pending[code]["nonce"] = nonce
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}")

    @provider.post("/token")
    async def token(request: Request) -> JSONResponse:
        # A form body (application/x-www-form-urlencoded), read without python-multipart.
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        code = form.get("code", "")
        asked = pending.pop(code, None)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            form.get("grant_type") != "authorization_code"
            or asked is None
            or asked["challenge"] != challenge
            or asked["redirect_uri"] != form.get("redirect_uri")
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        provider.state.exchanged.append(code)
        access = mint_token([Role.PLANNER], directory=keys, issuer=issuer, subject="kc-user-1")
        id_claims = {
            "aud": "botram-web",
            **({"nonce": request["nonce"]} if "nonce" in request else {}),
        }
        return JSONResponse(
            {
                "access_token": access,
                "id_token": _id_token(keys, issuer, id_claims),
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "openid",
            }
        )

    @provider.get("/jwks")
    async def jwks() -> Any:
        return json.loads((keys / "jwks.json").read_text())

    @provider.get("/logout")
    async def logout(post_logout_redirect_uri: str) -> RedirectResponse:
        return RedirectResponse(post_logout_redirect_uri)

    return provider


def _id_token(keys: Path, issuer: str, extra: dict[str, Any]) -> str:
    """The ID token the client library reads (who signed in); Botram's APIs never see it."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": "kc-user-1", "iat": now, "exp": now + 3600} | extra
    key = ECKey.import_key(json.loads((keys / "signing-key.json").read_text()))
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key, algorithms=["ES256"])


@pytest.fixture
def provider(tmp_path: Path) -> Any:
    """The identity provider, over HTTP on a free port."""
    keys = tmp_path / "idp"
    ensure_key_pair(keys)
    port = free_port()
    app = identity_provider(keys, f"http://127.0.0.1:{port}")
    live = LiveService("idp", app, port)
    live.start()
    yield live
    live.stop()


def test_a_page_signs_in_through_the_identity_provider_with_pkce(
    provider: LiveService, serve: Callable[..., LiveService], page: Page
) -> None:
    scheduler = serve(
        "scheduler",
        auto_lifecycle=False,
        auth_issuer=provider.url,
        auth_jwks_url=f"{provider.url}/jwks",
    )

    page.goto(f"{scheduler.url}/planner")
    expect(page.get_by_text("Buka tautan masuk dari operator")).to_be_hidden()
    page.get_by_role("button", name="Masuk", exact=True).click()

    expect(page.locator("[data-actor-roles]")).to_have_text("perencana")
    assert page.url == f"{scheduler.url}/planner"  # no code or state left in the address
    assert len(provider.app.state.exchanged) == 1
    # The scheduler's API accepts the provider's token (a preview needs a planner).
    page.get_by_role("button", name="Pratinjau").click()
    expect(page.locator("#preview-caption")).to_contain_text("sesi baru")

    page.get_by_role("button", name="Keluar").click()  # also ends the provider's session
    expect(page.get_by_role("heading", name="Silakan masuk")).to_be_visible()
    assert page.url == f"{scheduler.url}/planner"
    assert page.evaluate("() => sessionStorage.getItem('botram.token')") is None
