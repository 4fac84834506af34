"""HTTP request and response bodies of the registry API."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from botram_registry.domain.offline import UploadResult
from botram_runtime.inputs import Moment, Paragraph, PlainText, Slug

PriorityReason = Literal["disabilitas", "ibu-hamil"]


class CheckInRequest(BaseModel):
    """A citizen at the check-in desk and the services they came for."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(
        max_length=32,
        description="16-digit NIK (the example is made up and refused: no real person's)",
        examples=["3216999999999999"],
    )
    name: PlainText = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9]{8,15}$")
    services: list[Slug] = Field(min_length=1, max_length=20)
    priority: bool = Field(
        default=False, description="Disabilitas or ibu hamil (lansia is derived from the NIK)"
    )
    priority_reasons: list[PriorityReason] = Field(
        default_factory=list,
        max_length=2,
        description="Why the citizen is served with priority; kept in the registry only",
    )


class TicketPublic(BaseModel):
    ticket_id: str
    service: str
    agency: str
    number: str = Field(examples=["DUK-007"])
    position: int
    status: str = "waiting"
    transferred_from: str | None = None
    status_url: str | None = Field(
        default=None,
        description="The ticket's public status page (its QR code and SMS link): an "
        "unguessable code, only the ticket number shown there",
        examples=["https://botram.example/t/5mQd0n1Yf3kH8pQzR2sT4w"],
    )


class CheckInResponse(BaseModel):
    check_in_id: str
    session_id: str
    nik: str = Field(description="Masked: 3216********0001")
    priority: bool
    tickets: list[TicketPublic]
    added_services: list[str] = Field(
        default_factory=list,
        description="Services ticketed by this request on an existing check-in",
    )
    held_numbers: list[str] = Field(
        default_factory=list,
        description=(
            "Again at the same session: the numbers of the tickets held already (`tickets` "
            "lists only those this request issued)"
        ),
    )


class ContactChange(BaseModel):
    """A checked-in citizen's new phone (and, optionally, corrected name)."""

    model_config = ConfigDict(extra="forbid")

    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$")
    name: PlainText | None = Field(default=None, min_length=1, max_length=200)


class ContactChangeResult(BaseModel):
    check_in_id: str
    session_id: str
    tickets: int = Field(description="Open tickets the notifier now follows on the new phone")


class CallNextRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desk: PlainText | None = Field(default=None, max_length=40, examples=["meja-1"])


class DeskRequest(BaseModel):
    """The desk acting on a ticket (recorded with the action)."""

    model_config = ConfigDict(extra="forbid")

    desk: PlainText | None = Field(default=None, max_length=40, examples=["meja-1"])


class CompleteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    desk: PlainText | None = Field(default=None, max_length=40)

    outcome: Literal["served", "referred", "rejected"]
    note: Paragraph | None = Field(default=None, max_length=500)


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service: Slug = Field(
        description="Service code the citizen is sent to", examples=["bpjs-kesehatan-pendaftaran"]
    )
    desk: PlainText | None = Field(default=None, max_length=40)
    note: Paragraph | None = Field(default=None, max_length=500)


class TicketAction(BaseModel):
    action: str
    desk: str | None
    at: datetime


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
    recalls: int = 0
    transferred_from: str | None = None
    transferred_to: str | None = None
    history: list[TicketAction] = Field(default_factory=list)


class WaitingPosition(BaseModel):
    number: str
    position: int
    estimated_wait_seconds: float


class ServiceQueue(BaseModel):
    service: str
    agency: str
    waiting: int
    called: int
    served: int
    now_serving: list[str]
    mean_service_seconds: float = Field(
        description="Mean of completed services so far (the catalogue's mean before any)"
    )
    active_desks: int = Field(description="Desks that acted on this service recently (at least 1)")
    estimated_wait_seconds: float = Field(description="For a citizen who checks in now")
    positions: list[WaitingPosition] = Field(
        description="Waiting tickets in the order they will be called"
    )


class QueueStatus(BaseModel):
    session_id: str
    status: str
    services: list[ServiceQueue]


class OfflineCheckIn(CheckInRequest):
    """A check-in recorded by a desk without connectivity."""

    client_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="Made by the device"
    )
    recorded_at: Moment = Field(
        description="The device's clock when it was recorded, with its time zone (2000-2100)"
    )


class OfflineBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: PlainText | None = Field(default=None, max_length=80)
    items: list[OfflineCheckIn] = Field(min_length=1, max_length=500)


class ItemProblem(BaseModel):
    status: int
    code: str
    detail: str


class OfflineResult(BaseModel):
    client_id: str
    result: UploadResult = Field(
        description=(
            "created: new check-in; merged: the NIK was already checked in here (new services "
            "added); replayed: this item was uploaded before (nothing changed); conflict: the "
            "client id was used for another check-in; rejected: see problem"
        )
    )
    check_in: CheckInResponse | None = None
    problem: ItemProblem | None = None


class OfflineBatchResult(BaseModel):
    session_id: str
    results: list[OfflineResult]


class NikCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    nik: str = Field(max_length=32, description="The NIK as typed (never stored)")


class NikCheckResult(BaseModel):
    valid: bool
    rule: str | None = Field(default=None, description="The rule broken (invalid-nik-<rule>)")
    reason: str | None = Field(default=None, description="The rule in words (Bahasa Indonesia)")


class OfferedServicePublic(BaseModel):
    code: str
    name: str
    agency: str
    agency_label: str
    waiting: int
    quota_left: int | None = Field(description="Tickets that may still be issued; null: no quota")


class OpenSessionPublic(BaseModel):
    session_id: str
    level: str
    kecamatan: str
    desa: str | None
    date: date
    services: list[OfferedServicePublic]


class TicketStatusPublic(BaseModel):
    """A ticket as its holder follows it: the number only, never who holds it."""

    number: str
    service_name: str
    agency_label: str
    status: str
    session_status: str
    position: int | None = Field(description="Place in the order of calls, while waiting")
    estimated_wait_seconds: float | None
    desk: str | None = Field(description="The desk that called it, once called")
    survey: str | None = Field(
        default=None,
        description=(
            "The satisfaction survey: `open` once served (answer it with POST "
            "/v1/ticket-status/{code}/survey), `answered` after; absent otherwise"
        ),
    )


class SurveyAnswersCreate(BaseModel):
    """The nine SKM elements (PermenPAN-RB 14/2017), each 1 (worst) to 4 (best)."""

    model_config = {"extra": "forbid"}

    u1: int = Field(ge=1, le=4, description="Persyaratan")
    u2: int = Field(ge=1, le=4, description="Sistem, mekanisme dan prosedur")
    u3: int = Field(ge=1, le=4, description="Waktu penyelesaian")
    u4: int = Field(ge=1, le=4, description="Biaya/tarif")
    u5: int = Field(ge=1, le=4, description="Produk spesifikasi jenis pelayanan")
    u6: int = Field(ge=1, le=4, description="Kompetensi pelaksana")
    u7: int = Field(ge=1, le=4, description="Perilaku pelaksana")
    u8: int = Field(ge=1, le=4, description="Penanganan pengaduan, saran dan masukan")
    u9: int = Field(ge=1, le=4, description="Sarana dan prasarana")


class SurveyAnsweredPublic(BaseModel):
    survey: str = Field(description="`answered`")


class DisplayCallPublic(BaseModel):
    number: str
    desk: str | None
    agency_label: str
    service_name: str
    recall: bool = False


class AgencyWaitingPublic(BaseModel):
    agency: str
    agency_label: str
    waiting: int


class DisplaySnapshotPublic(BaseModel):
    session_id: str
    session_status: str
    calls: list[DisplayCallPublic]
    agencies: list[AgencyWaitingPublic]
