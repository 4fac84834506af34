"""Pure rules of the notifier: who may read what, what an endpoint's answer means, messages."""

import ipaddress
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

from botram_contracts.events import EVENT_MODELS

TICKET_FAMILY = "botram.ticket."
SERVICE_FAMILY = "botram.service."
SESSION_FAMILY = "botram.session."


class NotifierError(Exception):
    """A request the notifier refuses, with a message an integrator understands."""

    status = 422
    code = "invalid-request"

    def __init__(self, detail: str, *, status: int | None = None, code: str | None = None) -> None:
        super().__init__(detail)
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


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


def check_subscription_scope(
    agency: str,
    event_types: Iterable[str],
    services: Iterable[str] | None,
    agencies: Iterable[str],
    service_agency: dict[str, str],
) -> None:
    """Refuse unknown agencies, unknown or unreadable event types, another agency's services."""
    if agency not in set(agencies):
        raise NotifierError(f"Unknown agency {agency!r}.", code="unknown-agency")
    allowed = set(agency_event_types())
    for event_type in event_types:
        if event_type in EVENT_MODELS and event_type not in allowed:
            raise NotifierError(
                f"Event type {event_type!r} is not readable by agencies; "
                f"allowed: {', '.join(sorted(allowed))}.",
                status=403,
                code="event-type-forbidden",
            )
        if event_type not in allowed:
            raise NotifierError(
                f"Unknown event type {event_type!r}; allowed: {', '.join(sorted(allowed))}.",
                code="unknown-event-type",
            )
    for service in services or ():
        owner = service_agency.get(service)
        if owner is None:
            raise NotifierError(f"Unknown service {service!r}.", code="unknown-service")
        if owner != agency:
            raise NotifierError(
                f"Service {service!r} belongs to {owner!r}, not to {agency!r}.",
                status=403,
                code="service-of-another-agency",
            )


def subscription_matches(
    *,
    agency: str,
    event_types: list[str],
    services: list[str] | None,
    event_type: str,
    data: dict[str, Any],
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


class Outcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"  # no retry: the endpoint refused the event
    GONE = "gone"  # 410: the endpoint asks us to stop


def classify(status: int | None) -> Outcome:
    """What an endpoint's answer means (None: network error or timeout)."""
    if status is None or status == 429 or status >= 500:
        return Outcome.RETRY
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if status == 410:
        return Outcome.GONE
    return Outcome.FAILED


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a `Retry-After` header (delta-seconds or HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 0.0)


def next_attempt_delay(
    schedule: tuple[float, ...],
    retries_done: int,
    *,
    jitter: float,
    retry_after: float | None,
    max_retry_after: float,
    rng: random.Random | None = None,
) -> float | None:
    """Delay before the next attempt, or None when the schedule is exhausted."""
    if retries_done >= len(schedule):
        return None
    delay = schedule[retries_done]
    delay *= 1 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max_retry_after))
    return max(delay, 0.0)


def should_auto_disable(
    failing_since: datetime | None, now: datetime, after_seconds: float
) -> bool:
    return failing_since is not None and now - failing_since >= timedelta(seconds=after_seconds)


# --- SSRF --------------------------------------------------------------------------------

# Cloud metadata endpoints outside the link-local range (AWS IPv6, Alibaba's 100.100.100.200).
METADATA_ADDRESSES = {
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
}


def forbidden_address(address: str) -> str | None:
    """Why a webhook may not be sent to this IP address in production (None: allowed)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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


# --- citizen messages (Bahasa Indonesia) ---------------------------------------------------


class MessageKind(StrEnum):
    TICKET_ISSUED = "ticket_issued"
    TURN_NEAR = "turn_near"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_MOVED = "session_moved"


TEMPLATES = {
    MessageKind.TICKET_ISSUED: (
        "Botram Kab. Bekasi: nomor antrean Anda {number} untuk layanan {service}. "
        "Perkiraan waktu tunggu sekitar {wait_minutes} menit. Balas STOP untuk berhenti."
    ),
    MessageKind.TURN_NEAR: (
        "Botram Kab. Bekasi: giliran Anda sudah dekat. Nomor {number} ({service}): "
        "tinggal {ahead} antrean lagi. Mohon bersiap di dekat meja layanan."
    ),
    MessageKind.SESSION_CANCELLED: (
        "Botram Kab. Bekasi: mohon maaf, layanan Botram di {place} pada {date} dibatalkan. "
        "Alasan: {reason}."
    ),
    MessageKind.SESSION_MOVED: (
        "Botram Kab. Bekasi: layanan Botram di {place} dipindahkan dari {previous_date} "
        "ke {date}. Alasan: {reason}."
    ),
}

MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


def tanggal(day: Any) -> str:
    """A date the Indonesian way: `5 Desember 2026`."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def render(kind: MessageKind, **values: Any) -> str:
    return TEMPLATES[kind].format(**values)
