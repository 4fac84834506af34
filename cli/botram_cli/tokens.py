"""The embedded default's token issuer: a key pair under ./var/auth/ and `botram token`.

`botram up` creates the key pair once; the services trust its public half (`jwks.json`,
`BOTRAM_AUTH_JWKS_FILE`). `botram token --role desk --agency dukcapil` signs an access token
for that running system (RFC 9068 claims plus Botram's `roles`, `agency`, `services`). In
production an identity provider (e.g. Keycloak, `deploy/keycloak/`) issues the tokens instead.
"""

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc import jwt
from joserfc.jwk import ECKey

from botram_runtime.actors import Role
from botram_runtime.auth import AUDIENCE
from botram_runtime.settings import EMBEDDED_AUTH_DIR, EMBEDDED_ISSUER

SIGNING_KEY_FILE = "signing-key.json"
JWKS_FILE = "jwks.json"
ALGORITHM = "ES256"
MAX_TTL_SECONDS = 7 * 24 * 3600


def ensure_key_pair(directory: Path = EMBEDDED_AUTH_DIR) -> Path:
    """Create the signing key and its public JWKS once; returns the JWKS path."""
    directory.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = directory / SIGNING_KEY_FILE, directory / JWKS_FILE
    if not private_path.exists():
        key = ECKey.generate_key("P-256", parameters={"kid": uuid.uuid4().hex[:16], "use": "sig"})
        # Written with 0600 from the start: the private key never exists world-readable.
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            json.dump(key.as_dict(private=True), file)
    key = _signing_key(directory)
    public = {"keys": [key.as_dict(private=False) | {"alg": ALGORITHM, "use": "sig"}]}
    if not jwks_path.exists() or json.loads(jwks_path.read_text()) != public:
        jwks_path.write_text(json.dumps(public, indent=2))
    return jwks_path


def mint_token(
    roles: list[Role],
    *,
    agency: str | None = None,
    services: list[str] | None = None,
    ttl_seconds: int = 8 * 3600,
    subject: str | None = None,
    directory: Path = EMBEDDED_AUTH_DIR,
    issuer: str = EMBEDDED_ISSUER,
    expires_at: int | None = None,
) -> str:
    """A signed access token of the embedded issuer (`expires_at` wins over `ttl_seconds`)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": subject or f"local-{uuid.uuid4().hex[:12]}",
        "iat": now,
        "nbf": now,
        "exp": expires_at if expires_at is not None else now + ttl_seconds,
        "jti": str(uuid.uuid4()),
        "client_id": "botram-cli",
        "roles": [role.value for role in roles],
    }
    if agency:
        claims["agency"] = agency
    if services:
        claims["services"] = services
    key = _signing_key(directory)
    header = {"alg": ALGORITHM, "typ": "at+jwt", "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM])


def _signing_key(directory: Path) -> ECKey:
    path = directory / SIGNING_KEY_FILE
    if not path.exists():
        raise typer.BadParameter(
            f"no signing key at {path}: run `make up` (or `botram up`) once first"
        )
    return ECKey.import_key(json.loads(path.read_text()))


def parse_ttl(text: str) -> int:
    """`90s`, `15m`, `8h` or `2d` as seconds (at most a week)."""
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise typer.BadParameter("use a number and a unit: 90s, 15m, 8h, 2d")
    seconds = int(match[1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    if not 0 < seconds <= MAX_TTL_SECONDS:
        raise typer.BadParameter("a token lives between 1 second and 7 days")
    return seconds


def token(
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeat for several)")],
    agency: Annotated[
        str | None, typer.Option(help="Agency slug (for desk and agency roles)")
    ] = None,
    services: Annotated[
        str | None, typer.Option(help="Comma-separated service codes a desk serves")
    ] = None,
    ttl: Annotated[str, typer.Option(help="Lifetime: 90s, 15m, 8h, 2d")] = "8h",
    subject: Annotated[str | None, typer.Option(help="Opaque actor id (default: random)")] = None,
    var_dir: Annotated[Path, typer.Option(help="Where `botram up` keeps its state")] = Path("var"),
    link: Annotated[
        str | None,
        typer.Option(help="A page's URL: print a sign-in link URL#access_token=… instead"),
    ] = None,
) -> None:
    """Print an access token for the system `make up` runs (the token is the last line)."""
    if {Role.DESK, Role.AGENCY} & set(role) and not agency:
        raise typer.BadParameter("the desk and agency roles need --agency")
    codes = [code.strip() for code in services.split(",") if code.strip()] if services else None
    minted = mint_token(
        role,
        agency=agency,
        services=codes,
        ttl_seconds=parse_ttl(ttl),
        subject=subject,
        directory=var_dir / "auth",
    )
    typer.echo(f"# roles={','.join(r.value for r in role)} agency={agency or '-'} ttl={ttl}")
    typer.echo(sign_in_link(link, minted) if link else minted)


def sign_in_link(page_url: str, token: str) -> str:
    """`page_url#access_token=<token>`: a fragment is never sent to a server nor logged by one;
    the page's signin.js stores the token and removes the fragment from the address bar."""
    return f"{page_url.split('#', 1)[0]}#access_token={token}"
