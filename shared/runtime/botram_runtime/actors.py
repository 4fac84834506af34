"""Who acts: a verified caller and its roles. Pure values, usable by any service's domain rules.

`botram_runtime.auth` turns a bearer token into an `Actor`; domain rules (a desk only on its
own agency's tickets, an agency only on its own subscriptions) decide from it.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """The roles of the contract's Access section (claim `roles`)."""

    PLANNER = "planner"
    OPERATOR = "operator"
    FRONT_DESK = "front-desk"
    DESK = "desk"
    AGENCY = "agency"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Actor:
    """A verified caller: an opaque subject, its roles, and what it is confined to."""

    sub: str
    roles: frozenset[Role]
    agency: str | None = None
    services: frozenset[str] | None = None
    token_id: str | None = None
    expires_at: datetime | None = None

    def has(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def role_names(self) -> list[str]:
        return sorted(role.value for role in self.roles)
