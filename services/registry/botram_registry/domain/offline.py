"""Offline village desks: check-ins and desk actions recorded without connectivity, uploaded
later in batches.

Each item is applied on its own, in order (one refused item does not refuse the batch), and
the client id a device gave an item makes its replay change nothing. The rules for late
uploads and for conflicts with what happened online are in `offline_actions`.
"""

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from botram_registry.domain.check_in import CheckIn, CheckInResult
from botram_registry.domain.offline_actions import OfflineAction
from botram_registry.domain.tickets import Ticket
from botram_runtime.errors import Conflict, DomainError


@dataclass(frozen=True, slots=True)
class OfflineItem:
    """One check-in an offline desk recorded."""

    check_in: CheckIn
    client_id: str  # made by the device, unique per session
    recorded_at: datetime  # the device's clock
    # The item as uploaded (JSON form, personal data: not in the repr); its keyed digest tells
    # a replay from a client id reused for another check-in.
    content: Mapping[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class UploadOfflineBatch:
    """Check in what an offline desk recorded."""

    session_id: str
    device_id: str | None
    items: tuple[OfflineItem | OfflineAction, ...]


class UploadResult(StrEnum):
    CREATED = "created"  # a new check-in
    MERGED = "merged"  # the NIK was checked in here already (new services added)
    APPLIED = "applied"  # a desk action applied to its ticket
    REPLAYED = "replayed"  # this item was uploaded before (a duplicate): nothing changed
    # The client id was used for another item, or a desk action clashes with the ticket's
    # state (the first recorded wins: `offline_actions.resolve`).
    CONFLICT = "conflict"
    REJECTED = "rejected"  # a rule refused it: see the problem


@dataclass(frozen=True, slots=True)
class ItemRefusal:
    status: int
    code: str
    detail: str

    @classmethod
    def of(cls, error: DomainError) -> "ItemRefusal":
        return cls(status=error.status, code=error.code, detail=error.detail)


@dataclass(frozen=True, slots=True)
class ItemResult:
    client_id: str
    result: UploadResult
    check_in: CheckInResult | None = None
    ticket: Ticket | None = None  # a desk action's ticket, as it is after the item
    problem: ItemRefusal | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    session_id: str
    results: list[ItemResult]


class ClientIdReused(Conflict):
    """An item whose client id was already used for different content at this session."""

    def __init__(self, client_id: str) -> None:
        super().__init__(
            f"client id {client_id} was already used for another item at this session",
            code="client-id-reused",
        )


def fingerprint(content: Mapping[str, Any], key: bytes) -> str:
    """Keyed digest of an item: a plain hash of a NIK would be brute-forced in minutes."""
    body = json.dumps(content, sort_keys=True).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def check_replay(client_id: str, stored: str, uploaded: str) -> None:
    """An item seen before (`stored` fingerprint) is a replay only if its content is the same
    (`uploaded` fingerprint); else it is a conflict."""
    if stored != uploaded:
        raise ClientIdReused(client_id)
