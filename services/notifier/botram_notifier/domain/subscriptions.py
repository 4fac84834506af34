"""Agency webhook subscriptions: who may read what, which events match, which URLs are fine."""

import ipaddress
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from botram_contracts.events import EVENT_MODELS
from botram_notifier.domain.ownership import subscription_agency
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Forbidden, Invalid
from botram_runtime.inputs import refused_character

TICKET_FAMILY = "botram.ticket."
SERVICE_FAMILY = "botram.service."
SESSION_FAMILY = "botram.session."

# Why a subscription was disabled by hand (shown to the agency's integrator).
DISABLED_BY_OPERATOR = "disabled by an operator"
DISABLED_BY_AGENCY = "disabled by the agency"


@dataclass(frozen=True, slots=True)
class CreateSubscription:
    """Register an agency's endpoint for some of its event types (and services).

    `agency` is what the body named: an agency token's own agency wins (domain/ownership.py).
    """

    actor: Actor
    url: str
    event_types: list[str]
    agency: str | None = None
    services: list[str] | None = None


@dataclass(frozen=True, slots=True)
class FindSubscriptions:
    """The subscriptions an actor may see, of one agency when `agency` is given."""

    actor: Actor
    agency: str | None = None


@dataclass(frozen=True, slots=True)
class GetSubscription:
    actor: Actor
    subscription_id: str


@dataclass(frozen=True, slots=True)
class SetEnabled:
    """Enable a subscription again, or stop delivering to it."""

    actor: Actor
    subscription_id: str
    enabled: bool


@dataclass(frozen=True, slots=True)
class RotateSecret:
    """Issue a new signing secret; the old one keeps signing for the overlap window."""

    actor: Actor
    subscription_id: str


@dataclass(frozen=True, slots=True)
class SendTestEvent:
    """The sandbox: send a signed sample event of a type (default: the subscription's first)
    to a subscription's endpoint, now, whether or not it is enabled; nothing is recorded as a
    delivery."""

    actor: Actor
    subscription_id: str
    event_type: str | None = None


def sandbox_event_type(requested: str | None, subscribed: list[str]) -> str:
    """The type of a sandbox event: one agencies may read (the subscription's first if none)."""
    if requested is None:
        return subscribed[0]
    allowed = agency_event_types()
    if requested not in allowed:
        raise Invalid(
            f"Unknown event type {requested!r}; allowed: {', '.join(allowed)}.",
            code="unknown-event-type",
            valid=allowed,
        )
    return requested


def disabled_by(actor: Actor) -> str:
    """Why a subscription was disabled by hand: an operator, or the agency itself."""
    return DISABLED_BY_OPERATOR if actor.has(Role.OPERATOR) else DISABLED_BY_AGENCY


def agency_event_types() -> list[str]:
    """Event types an agency may subscribe to: its ticket and service events, sessions.

    Never citizen events (they describe people, not a desk's work) nor private ones.
    """
    return sorted(
        event_type
        for event_type, model in EVENT_MODELS.items()
        if not model.private
        and event_type.startswith((TICKET_FAMILY, SERVICE_FAMILY, SESSION_FAMILY))
    )


def is_agency_scoped(event_type: str) -> bool:
    """Ticket and service events belong to one agency; session events are for everyone."""
    return event_type.startswith((TICKET_FAMILY, SERVICE_FAMILY))


def check_new_subscription(
    command: CreateSubscription,
    agencies: Iterable[str],
    service_agency: Mapping[str, str],
    *,
    require_https: bool = False,
) -> str:
    """A new subscription needs an agency the caller acts for, a usable URL (https in
    production), at least one event type, and a proper scope; answers the agency it is for."""
    agency = subscription_agency(command.actor, command.agency)
    check_url_syntax(command.url, require_https=require_https)
    if not command.event_types:
        raise Invalid("Name at least one event type.", code="unknown-event-type")
    check_subscription_scope(
        agency, command.event_types, command.services, agencies, service_agency
    )
    return agency


def check_subscription_scope(
    agency: str,
    event_types: Iterable[str],
    services: Iterable[str] | None,
    agencies: Iterable[str],
    service_agency: Mapping[str, str],
) -> None:
    """Refuse unknown agencies, unknown or unreadable event types, another agency's services."""
    known = sorted(agencies)
    if agency not in known:
        raise Invalid(
            f"Unknown agency {agency!r}; valid: {', '.join(known)}.",
            code="unknown-agency",
            valid=known,
        )
    allowed = set(agency_event_types())
    for event_type in event_types:
        if event_type in EVENT_MODELS and event_type not in allowed:
            raise Forbidden(
                f"Event type {event_type!r} is not readable by agencies; "
                f"allowed: {', '.join(sorted(allowed))}.",
                code="event-type-forbidden",
                valid=sorted(allowed),
            )
        if event_type not in allowed:
            raise Invalid(
                f"Unknown event type {event_type!r}; allowed: {', '.join(sorted(allowed))}.",
                code="unknown-event-type",
                valid=sorted(allowed),
            )
    for service in services or ():
        owner = service_agency.get(service)
        if owner is None:
            own = sorted(code for code, of in service_agency.items() if of == agency)
            raise Invalid(
                f"Unknown service {service!r}; services of {agency}: {', '.join(own)}.",
                code="unknown-service",
                valid=own,
            )
        if owner != agency:
            raise Forbidden(
                f"Service {service!r} belongs to {owner!r}, not to {agency!r}.",
                code="service-of-another-agency",
            )


def subscription_matches(
    *,
    agency: str,
    event_types: list[str],
    services: list[str] | None,
    event_type: str,
    data: Mapping[str, Any],
) -> bool:
    """Whether an event goes to a subscription (the agency's own events only)."""
    if event_type not in event_types:
        return False
    if is_agency_scoped(event_type):
        if data.get("agency") != agency:
            return False
        return not services or data.get("service") in services
    if services and event_type.startswith(SESSION_FAMILY):
        # A session offering none of the subscribed services is of no interest.
        offered = data.get("services")
        return offered is None or bool(set(offered) & set(services))
    return True


def signing_secrets(
    secret: str, previous: str | None, previous_until: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign a delivery now: the current one, plus the previous in its window."""
    secrets = [secret]
    if previous and previous_until and previous_until > now:
        secrets.append(previous)
    return secrets


# --- webhook URLs and the SSRF guard -------------------------------------------------------


def check_url_syntax(url: str, *, require_https: bool = False) -> None:
    """A webhook URL must be absolute http(s) (https in production) with a host name that
    can be encoded (IDNA) and no credentials; anything else is a 422, never a crash."""
    if refused_character(url) is not None or any(c.isspace() for c in url):
        raise Invalid("The webhook URL holds spaces or control characters.", code="invalid-url")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as error:
        raise Invalid("The webhook URL is malformed (host or port).", code="invalid-url") from error
    if parts.scheme not in {"http", "https"} or not hostname:
        raise Invalid(
            "The webhook URL must be an absolute http:// or https:// URL.", code="invalid-url"
        )
    if require_https and parts.scheme != "https":
        raise Invalid("The webhook URL must use https:// in production.", code="https-required")
    if parts.username or parts.password:
        raise Invalid("The webhook URL must not carry credentials.", code="invalid-url")
    check_host_name(hostname)


def check_host_name(host: str) -> None:
    """An IP literal, or a DNS name whose labels IDNA can encode (1-63 bytes, 253 in all)."""
    with suppress(ValueError):
        ipaddress.ip_address(host)
        return
    try:
        encoded = host.encode("idna")
    except UnicodeError as error:
        raise Invalid(
            "The webhook URL's host name is not a valid name.", code="invalid-url"
        ) from error
    labels = encoded.rstrip(b".").split(b".")
    if len(encoded) > 253 or any(not 1 <= len(label) <= 63 for label in labels):
        raise Invalid("The webhook URL's host name is not a valid name.", code="invalid-url")


def endpoint_of(url: str) -> str:
    """Concurrency is bounded per host:port (one agency may have several paths)."""
    try:
        parts = urlsplit(url)
    except ValueError:  # a URL stored before it was checked: its attempts fail and back off
        return url.lower()
    return f"{parts.scheme}://{parts.netloc}".lower()


# Cloud metadata endpoints outside the link-local range (AWS IPv6, Alibaba's 100.100.100.200).
METADATA_ADDRESSES = {
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


# Site-local IPv6 (deprecated by RFC 3879, still routed inside some networks).
SITE_LOCAL = ipaddress.ip_network("fec0::/10")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries to its destination: IPv4-mapped, 6to4
    (2002::/16, the IPv4 in bits 16-47) or Teredo (2001::/32, the client's IPv4, inverted)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def forbidden_address(address: str) -> str | None:
    """Why a webhook may not be sent to this IP address in production (None: allowed)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in SITE_LOCAL:
            return "a site-local address"
        inner = embedded_ipv4(ip)
        if inner is not None:
            reason = forbidden_address(str(inner))
            return f"{reason} (inside an IPv6 address)" if reason else None
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private or ip.is_reserved or ip.is_multicast or ip.is_unspecified:
        return "a private or reserved address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    return None


def check_addresses(host: str, addresses: Iterable[str]) -> None:
    """With the SSRF guard on, every address a host resolves to must be public.

    Otherwise a later lookup could pick the internal one.
    """
    for address in addresses:
        reason = forbidden_address(address)
        if reason:
            raise Invalid(
                f"The webhook host {host!r} resolves to {reason}; refused in production.",
                code="forbidden-url",
            )
