"""HTTP request and response bodies of the registry API."""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from botram_runtime.inputs import Day, Paragraph, PlainText, Slug

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


class FollowUpRequest(BaseModel):
    """What an agency tells the holder of a served or referred ticket (Bahasa Indonesia: the
    citizen reads `place` and `note` in an SMS and on the ticket's page)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["document_ready"] = Field(description="The document is ready to collect")
    place: PlainText = Field(
        min_length=1, max_length=200, examples=["Kantor Disdukcapil Cikarang, loket 3"]
    )
    until: Day | None = Field(default=None, description="Collect it by this day (WIB)")
    note: Paragraph | None = Field(
        default=None, max_length=500, description="For the citizen; never personal data"
    )


class FollowUpPublic(BaseModel):
    """A follow-up as recorded: what the citizen is told, never who they are."""

    follow_up_id: str
    ticket_id: str
    number: str
    service: str
    agency: str
    kind: str
    place: str
    until: date | None
    note: str | None
    followed_up_at: datetime
    seconds_since_completion: float
    citizen_notified: bool = Field(
        description="The citizen is texted (once): a phone was given and was still kept"
    )


class TicketFollowUpPublic(BaseModel):
    """A follow-up on a ticket's public page."""

    kind: str
    place: str
    until: date | None
    note: str | None


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
    follow_ups: list[TicketFollowUpPublic] = Field(
        default_factory=list, description="What the agency said since, e.g. a document is ready"
    )
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
