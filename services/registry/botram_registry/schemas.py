"""HTTP request and response bodies of the registry API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CheckInRequest(BaseModel):
    """A citizen at the check-in desk and the services they came for."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(description="16-digit NIK", examples=["3216054507900001"])
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{8,15}$")
    services: list[str] = Field(min_length=1, max_length=20)
    priority: bool = Field(
        default=False, description="Disabilitas or ibu hamil (lansia is derived from the NIK)"
    )


class TicketPublic(BaseModel):
    ticket_id: str
    service: str
    agency: str
    number: str = Field(examples=["DUK-007"])
    position: int
    status: str = "waiting"


class CheckInResponse(BaseModel):
    check_in_id: str
    session_id: str
    nik: str = Field(description="Masked: 3216********0001")
    priority: bool
    tickets: list[TicketPublic]


class CallNextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desk: str | None = Field(default=None, max_length=40, examples=["meja-1"])


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["served", "referred", "rejected"]
    note: str | None = Field(default=None, max_length=500)


class TicketState(BaseModel):
    ticket_id: str
    session_id: str
    service: str
    agency: str
    number: str
    status: str
    desk: str | None
    outcome: str | None
    issued_at: datetime
    called_at: datetime | None
    completed_at: datetime | None


class ServiceQueue(BaseModel):
    service: str
    agency: str
    waiting: int
    called: int
    served: int
    now_serving: list[str]
    mean_service_seconds: float
    estimated_wait_seconds: float


class QueueStatus(BaseModel):
    session_id: str
    status: str
    services: list[ServiceQueue]
