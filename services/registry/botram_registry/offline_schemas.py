"""HTTP bodies of offline desks' uploads (`POST /v1/sessions/{id}/check-ins:batch`).

An item is a check-in, a call, an outcome or a no-show (its `kind`; an item without one is a
check-in, as uploads were before desk actions could sync).
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from botram_registry.domain.offline import UploadResult
from botram_registry.schemas import CheckInRequest, CheckInResponse, TicketState
from botram_runtime.inputs import Moment, Paragraph, PlainText, Slug

ClientId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="Made by the device, unique per session (for every kind of item)",
    ),
]
RecordedAt = Annotated[
    Moment,
    Field(
        description=(
            "The device's clock when it was recorded, with its time zone: the ticket's and the "
            "event's time; on the session's day (Asia/Jakarta), else the item is rejected"
        )
    ),
]


class OfflineCheckIn(CheckInRequest):
    """A check-in recorded by a desk without connectivity."""

    kind: Literal["check_in"] = "check_in"
    client_id: ClientId
    recorded_at: RecordedAt


class OfflineDeskAction(BaseModel):
    """A desk action recorded without connectivity, on a ticket named by exactly one of
    `ticket_id`, `number`, or `check_in` (the client id of the offline check-in that issued it,
    with `service` when that check-in has tickets for several services)."""

    model_config = ConfigDict(extra="forbid")

    client_id: ClientId
    recorded_at: RecordedAt
    ticket_id: str | None = Field(default=None, max_length=36)
    number: str | None = Field(default=None, max_length=16, examples=["KK-012"])
    check_in: str | None = Field(
        default=None, max_length=64, description="The client id of an offline check-in"
    )
    service: Slug | None = None
    desk: PlainText | None = Field(default=None, max_length=40)

    @model_validator(mode="after")
    def _one_ticket_reference(self) -> "OfflineDeskAction":
        named = [ref for ref in (self.ticket_id, self.number, self.check_in) if ref is not None]
        if len(named) != 1:
            raise ValueError("name the ticket by exactly one of ticket_id, number or check_in")
        return self


class OfflineCall(OfflineDeskAction):
    kind: Literal["call"]


class OfflineOutcome(OfflineDeskAction):
    kind: Literal["outcome"]
    outcome: Literal["served", "referred", "rejected"]
    note: Paragraph | None = Field(default=None, max_length=500)


class OfflineNoShow(OfflineDeskAction):
    kind: Literal["no_show"]


def _kind_of(item: Any) -> str:
    """An item's kind (a check-in when it names none)."""
    if isinstance(item, dict):
        return str(item.get("kind", "check_in"))
    return str(getattr(item, "kind", "check_in"))


UploadedItem = Annotated[
    Annotated[OfflineCheckIn, Tag("check_in")]
    | Annotated[OfflineCall, Tag("call")]
    | Annotated[OfflineOutcome, Tag("outcome")]
    | Annotated[OfflineNoShow, Tag("no_show")],
    Discriminator(_kind_of),
]


class OfflineBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: PlainText | None = Field(default=None, max_length=80)
    items: list[UploadedItem] = Field(
        min_length=1,
        max_length=500,
        description="Applied one by one, in this order (a check-in before the calls of its ticket)",
    )


class ItemProblem(BaseModel):
    status: int
    code: str
    detail: str


class OfflineResult(BaseModel):
    client_id: str
    result: UploadResult = Field(
        description=(
            "created: new check-in; merged: the NIK was already checked in here (new services "
            "added); applied: the desk action was applied at its recorded time; replayed: this "
            "item was uploaded before (a duplicate: nothing changed); conflict: the client id "
            "was used for another item, or the ticket's state no longer allows the action (the "
            "first recorded wins: see problem); rejected: see problem"
        )
    )
    check_in: CheckInResponse | None = None
    ticket: TicketState | None = Field(default=None, description="A desk action's ticket, after it")
    problem: ItemProblem | None = None


class OfflineBatchResult(BaseModel):
    session_id: str
    results: list[OfflineResult]
