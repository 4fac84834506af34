"""Who may do what: each route declares its rule, and the runtime refuses routes without one.

A route is either `public()` (health, docs, the list of sessions, a queue's counts…) or
`allow(Role.X, …)`, a FastAPI dependency that verifies the bearer token and answers with the
caller as an `Actor`. Object-level rules (a desk only on its own agency's tickets, an agency
only on its own subscriptions) are domain rules of the service, applied to that `Actor`.

Answers (contract, Access): no token or a bad one -> 401 problem+json with
`WWW-Authenticate: Bearer` (`error="invalid_token"` when a token was sent); a valid token
without the right role -> 403 problem+json naming the roles that would do. The token is never
echoed. API requests carry the token in the `Authorization` header, never in a cookie, so a
page on another site cannot act for a signed-in officer (CSRF).
"""

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from botram_runtime.actors import Actor, Role
from botram_runtime.auth import InvalidToken, TokenVerifier
from botram_runtime.errors import DomainError, Forbidden

ACCESS_ATTRIBUTE = "botram_access"
_bearer = HTTPBearer(auto_error=False, description="An access token (JWT) of Botram's issuer")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


@dataclass(frozen=True, slots=True)
class AccessRule:
    """Who may call a route: anyone (`public`), or holders of one of `roles`."""

    public: bool
    roles: frozenset[Role] = frozenset()

    def describe(self) -> str:
        return "public" if self.public else " or ".join(sorted(r.value for r in self.roles))


class Unauthenticated(DomainError):
    """No token, or one that cannot be trusted (401)."""

    status = 401
    default_code = "unauthenticated"

    def __init__(self, detail: str, *, token_sent: bool) -> None:
        challenge = 'Bearer realm="botram"'
        if token_sent:
            challenge += f', error="invalid_token", error_description="{detail}"'
        super().__init__(detail)
        self.headers = {"WWW-Authenticate": challenge}


def public() -> Callable[[], Awaitable[None]]:
    """The rule of a route anyone may call (it must carry no personal data)."""

    async def anyone() -> None:
        return None

    setattr(anyone, ACCESS_ATTRIBUTE, AccessRule(public=True))
    return anyone


def allow(*roles: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency that answers with the caller when it holds one of `roles`."""
    if not roles:
        raise ValueError("allow() needs at least one role; use public() for anyone")
    rule = AccessRule(public=False, roles=frozenset(roles))

    async def caller(request: Request, credentials: BearerCredentials) -> Actor:
        actor = await authenticate(request, credentials)
        if not actor.has(*roles):
            raise Forbidden(
                f"this needs the role {rule.describe()}", code="role-required", roles=sorted(roles)
            )
        return actor

    setattr(caller, ACCESS_ATTRIBUTE, rule)
    return caller


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Actor:
    """The verified caller of a request, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthenticated("a bearer token is required", token_sent=False)
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        actor = await verifier.verify(credentials.credentials)
    except InvalidToken as error:
        raise Unauthenticated(f"invalid token: {error}", token_sent=True) from error
    request.state.actor = actor
    return actor


def rule_of(route: APIRoute) -> AccessRule | None:
    """The access rule a route declared (in its parameters or its `dependencies`)."""
    pending: list[Any] = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        rule = getattr(dependant.call, ACCESS_ATTRIBUTE, None)
        if rule is not None:
            return rule  # type: ignore[no-any-return]
        pending.extend(dependant.dependencies)
    return None


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """(METHOD, full path, route) of every API route, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            for method in sorted(context.methods or ()):
                if method != "HEAD":
                    yield method, str(context.path), route


def routes_without_a_rule(app: FastAPI) -> list[str]:
    """`METHOD path` of every API route that declares no access rule."""
    return [f"{method} {path}" for method, path, route in api_routes(app) if rule_of(route) is None]
