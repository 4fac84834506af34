"""Request and response bodies of the notifier's HTTP API."""

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from botram_notifier.domain.deliveries import DeliveryStatus
from botram_notifier.store import AttemptRow, DeliveryRow, SubscriptionRow
from botram_runtime.inputs import MAX_ITEMS, Moment, Slug


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: Slug | None = Field(
        default=None,
        examples=["bpjs-kesehatan"],
        description=(
            "The agency: required from an operator; an agency's token gives its own agency "
            "(naming another is refused with 403)"
        ),
    )
    url: str = Field(
        min_length=1, max_length=2000, examples=["https://hooks.bpjs-kesehatan.go.id/botram"]
    )
    event_types: list[Slug] = Field(
        min_length=1, max_length=MAX_ITEMS, examples=[["botram.service.completed.v1"]]
    )
    services: list[Slug] | None = Field(
        default=None,
        max_length=MAX_ITEMS,
        description="Only these services of the agency (default: all of them)",
    )


class SubscriptionPublic(BaseModel):
    id: str
    agency: str
    url: str
    event_types: list[str]
    services: list[str] | None
    enabled: bool
    disabled_reason: str | None
    created_at: datetime

    @classmethod
    def of(cls, row: SubscriptionRow) -> "SubscriptionPublic":
        return cls.model_validate(row.model_dump())


class SubscriptionCreated(SubscriptionPublic):
    secret: str = Field(description="The whsec_ signing secret: shown only once")

    @classmethod
    def of(cls, row: SubscriptionRow) -> "SubscriptionCreated":
        return cls.model_validate(row.model_dump())


class SecretRotated(BaseModel):
    id: str
    secret: str
    previous_secret_valid_until: datetime | None

    @classmethod
    def of(cls, row: SubscriptionRow) -> "SecretRotated":
        return cls(
            id=row.id, secret=row.secret, previous_secret_valid_until=row.previous_secret_until
        )


class AttemptPublic(BaseModel):
    number: int
    at: datetime
    outcome: str
    status_code: int | None
    latency_ms: float
    error: str | None


class DeliveryPublic(BaseModel):
    id: str
    subscription_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "held"]
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptPublic]
    event: dict[str, Any]

    @classmethod
    def of(cls, row: DeliveryRow, attempts: list[AttemptRow]) -> "DeliveryPublic":
        # Read from the row's attributes, not `row.model_dump()`: a status loaded from the
        # database is a plain string, which pydantic would warn about serializing as an enum.
        fields = {name: getattr(row, name) for name in DELIVERY_COLUMNS}
        if row.status != DeliveryStatus.PENDING:
            fields["next_attempt_at"] = None
        return cls.model_validate(
            fields
            | {
                "attempt_log": [
                    AttemptPublic.model_validate(a, from_attributes=True) for a in attempts
                ],
                "event": json.loads(row.payload),
            }
        )


# The fields of a delivery's public view that are columns of its row.
DELIVERY_COLUMNS = [
    name for name in DeliveryPublic.model_fields if name not in {"attempt_log", "event"}
]


class ReplayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    since: Moment = Field(
        description="Replay failed deliveries created at or after this (with its time zone)"
    )


class ReplayResult(BaseModel):
    replayed: int


class OptOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$")


class AgencyPublic(BaseModel):
    slug: str = Field(examples=["bpjs-kesehatan"])
    name: str


class ServicePublic(BaseModel):
    code: str = Field(examples=["bpjs-kesehatan-pendaftaran"])
    agency: str
    name: str
    ticket_prefix: str
    desa_eligible: bool


class EventTypePublic(BaseModel):
    type: str = Field(examples=["botram.service.completed.v1"])
    subject: str = Field(
        description="The NATS subject pattern; {field} tokens are the event's fields",
        examples=["botram.service.completed.v1.{agency}.{service}"],
    )
    schema_url: str = Field(description="Its JSON Schema (this service, same token)")
    description: str
    sample: dict[str, Any] = Field(description="A sample CloudEvent of this type")


class TestEventRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    event_type: Slug | None = Field(
        default=None,
        examples=["botram.service.completed.v1"],
        description="The sample to send (default: the subscription's first event type)",
    )


class TestEventResult(BaseModel):
    event_id: str = Field(description="The `webhook-id` (and CloudEvent id) that was sent")
    event_type: str
    delivered: bool = Field(description="The endpoint answered 2xx")
    status_code: int | None = Field(description="None: no answer (network error, timeout)")
    latency_ms: float
    error: str | None
