"""One pydantic model for the `data` of every event in the contract's catalogue.

Within v1 only optional fields are ever added; a breaking change is a new `...V2` model with
its own type and subject, published beside v1 until consumers have moved.
"""

from datetime import date as Date
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field, StringConstraints

from botram_contracts.events.envelope import EventData
from botram_contracts.vocabulary import Level, Outcome
from botram_contracts.wallclock import WallClock

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Sex = Literal["F", "M"]
AgeBand = Literal["0-17", "18-29", "30-44", "45-59", "60+"]
# A keyed pseudonym (hex HMAC-SHA256 of the NIK): never the NIK itself, never a plain hash.
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class BotramEvent(EventData):
    """Event data that knows its CloudEvents `type` and which of its fields end its subject."""

    event_type: ClassVar[str]
    subject_fields: ClassVar[tuple[str, ...]]
    # Only the owning service publishes an entity's events.
    producer: ClassVar[str]
    # Private events travel on subjects no agency may read (see `subjects.PRIVATE_PREFIX`).
    private: ClassVar[bool] = False
    # Anonymous events must not be linkable to a citizen by whoever reads the producer's
    # database: like private ones, the outbox deletes their rows as soon as they are published.
    anonymous: ClassVar[bool] = False


class _SessionRef(BotramEvent):
    subject_fields = ("level", "kecamatan")
    producer = "scheduler"

    session_id: str
    level: Level
    kecamatan: Slug
    desa: Slug | None = None
    date: Date


class SessionScheduledV1(_SessionRef):
    """A Botram session was put on the calendar."""

    event_type = "botram.session.scheduled.v1"

    start: WallClock
    end: WallClock
    venue: str | None = None
    services: list[Slug]
    quotas: dict[str, int] = Field(default_factory=dict, description="Tickets per service")
    ranking_id: str | None = Field(
        default=None, description="The demand ranking event the desa service mix came from"
    )


class SessionRescheduledV1(_SessionRef):
    """A session moved to another date (`date` is the new one)."""

    event_type = "botram.session.rescheduled.v1"

    previous_date: Date
    start: WallClock | None = None
    end: WallClock | None = None
    reason: str


class SessionUpdatedV1(_SessionRef):
    """A session's services, quotas, venue or hours changed (`changed` names which); the
    other fields carry the session as it is now."""

    event_type = "botram.session.updated.v1"

    start: WallClock
    end: WallClock
    venue: str | None = None
    services: list[Slug]
    quotas: dict[str, int] = Field(default_factory=dict, description="Tickets per service")
    changed: list[Literal["services", "quotas", "venue", "start", "end"]] = Field(
        description="The fields this change set (the others are as they were)"
    )


class SessionCancelledV1(_SessionRef):
    """A session will not take place."""

    event_type = "botram.session.cancelled.v1"

    reason: str


class SessionOpenedV1(_SessionRef):
    """A session's desks opened: check-ins are accepted."""

    event_type = "botram.session.opened.v1"

    opened_at: datetime


class SessionClosedV1(_SessionRef):
    """A session's desks closed: no more check-ins."""

    event_type = "botram.session.closed.v1"

    closed_at: datetime


class TicketRef(EventData):
    """A queue ticket as announced in a check-in."""

    ticket_id: str
    service: Slug
    agency: Slug
    number: str
    position: int = Field(
        ge=1,
        description=(
            "Place in the service's queue when issued, in the order desks call (priority "
            "tickets interleaved with regular ones): 1 = called next"
        ),
    )
    transferred_from: str | None = Field(
        default=None, description="The ticket a desk transferred to this one (same citizen)"
    )


class CitizenCheckedInV1(BotramEvent):
    """A citizen checked in at a session and got a ticket per service."""

    event_type = "botram.citizen.checked_in.v1"
    subject_fields = ("level", "kecamatan")
    producer = "registry"

    check_in_id: str
    session_id: str
    level: Level
    kecamatan: Slug
    desa: Slug | None = None
    citizen: Pseudonym
    sex: Sex
    age_band: AgeBand
    resident: bool = Field(description="Lives in the regency (by the NIK's regency code)")
    priority: bool
    tickets: list[TicketRef]
    checked_in_at: datetime
    recorded_offline: bool | None = Field(
        default=None,
        description=(
            "True when an offline desk recorded this and uploaded it later (hours later, or "
            "after the session closed): its time is the desk's clock, not the upload's. "
            "Consumers do not text citizens about it; absent from events of older registries"
        ),
    )


class CitizenTicketsAddedV1(BotramEvent):
    """An existing check-in got tickets for more services (asked at the desk or transferred).

    Counted like the tickets of `citizen.checked_in`, but it is not a new check-in.
    """

    event_type = "botram.citizen.tickets_added.v1"
    subject_fields = ("level", "kecamatan")
    producer = "registry"

    check_in_id: str
    session_id: str
    level: Level
    kecamatan: Slug
    desa: Slug | None = None
    citizen: Pseudonym
    priority: bool
    reason: Literal["added", "transferred"]
    tickets: list[TicketRef]
    added_at: datetime


class CitizenContactSharedV1(BotramEvent):
    """PRIVATE: a checked-in citizen's phone number, for the notifier's messages only.

    Travels on `botram.private.citizen.contact_shared.v1.<session_id>`, in the private
    stream, which no agency credential may read; when the session closes the notifier
    deletes the number and purges the session's private events from the stream.
    """

    event_type = "botram.citizen.contact_shared.v1"
    subject_fields = ("session_id",)
    producer = "registry"
    private = True

    check_in_id: str
    session_id: str
    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$")
    tickets: list[TicketRef]
    status_links: dict[str, str] | None = Field(
        default=None,
        description=(
            "Per ticket id, the ticket's public status page (an unguessable code: a secret "
            "of the ticket's holder, so only on this private subject), for the SMS; absent "
            "when the registry has no public address configured"
        ),
    )


class CitizenPreRegisteredV1(BotramEvent):
    """PRIVATE: a citizen was registered ahead of a session, with an arrival slot; the phone
    number, for the notifier's SMS only (the slot and the link to the QR code).

    Travels on `botram.private.citizen.pre_registered.v1.<session_id>`, in the private
    stream, which no agency credential may read. The check-in at the fair publishes the
    ordinary public events; this one carries no pseudonym and no ticket.
    """

    event_type = "botram.citizen.pre_registered.v1"
    subject_fields = ("session_id",)
    producer = "registry"
    private = True

    pre_registration_id: str
    session_id: str
    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$")
    date: Date
    slot_start: WallClock = Field(description="The arrival slot's start, WIB wall clock")
    slot_end: WallClock = Field(description="The arrival slot's end, WIB wall clock")
    place: str = Field(max_length=200, description="Where: the venue, or the desa/kecamatan")
    services: list[Slug]
    code: str = Field(
        max_length=32,
        description="The code the QR encodes (a secret of its holder: private subject only)",
    )
    qr_link: str | None = Field(
        default=None,
        description="The public page with the QR code; absent when the registry has no "
        "public address configured",
    )


class _TicketEvent(BotramEvent):
    subject_fields = ("agency", "service")
    producer = "registry"

    ticket_id: str
    session_id: str
    service: Slug
    agency: Slug
    level: Level | None = None
    kecamatan: Slug | None = None
    actor: str | None = Field(
        default=None,
        max_length=255,
        description=(
            "The desk officer's opaque id (the `sub` of their access token, never a name), so "
            "an agency can tell its desks apart"
        ),
    )


# At most this many tickets in a `ticket.called` event's `up_next`: a consumer can tell a
# citizen the turn is near while fewer than this many tickets are ahead.
UP_NEXT_LENGTH = 10


class WaitingTicketRef(EventData):
    """A ticket still waiting in a queue."""

    ticket_id: str
    number: str


class TicketCalledV1(_TicketEvent):
    """A desk called a ticket."""

    event_type = "botram.ticket.called.v1"

    number: str
    desk: str | None = None
    waited_seconds: float = Field(ge=0)
    called_at: datetime | None = None
    out_of_turn: bool | None = Field(
        default=None,
        description=(
            "True when a desk called this ticket by its number before its turn (a citizen who "
            "stepped out and came back); absent from events of older registries"
        ),
    )
    up_next: list[WaitingTicketRef] | None = Field(
        default=None,
        max_length=UP_NEXT_LENGTH,
        description=(
            "After this call, the first waiting tickets of the queue in the order desks will "
            f"call them (the first is next), at most {UP_NEXT_LENGTH}; empty when nobody "
            "waits. Only a call brings a waiting ticket closer (an arrival never does), so these "
            "are the places citizens can be told. Absent from events of older registries"
        ),
    )
    recorded_offline: bool | None = Field(
        default=None,
        description=(
            "True when an offline desk recorded this and uploaded it later (hours later, or "
            "after the session closed): its time is the desk's clock, not the upload's. "
            "Consumers do not text citizens about it; absent from events of older registries"
        ),
    )


class ServiceCompletedV1(_TicketEvent):
    """A desk finished with a ticket: served, referred elsewhere or rejected."""

    event_type = "botram.service.completed.v1"

    check_in_id: str
    citizen: Pseudonym
    outcome: Outcome
    waited_seconds: float = Field(ge=0)
    service_seconds: float = Field(ge=0)
    desk: str | None = None
    completed_at: datetime | None = None
    transferred_to: str | None = Field(
        default=None, description="The new ticket when the desk transferred the citizen"
    )
    recorded_offline: bool | None = Field(
        default=None,
        description=(
            "True when an offline desk recorded this and uploaded it later (hours later, or "
            "after the session closed): its time is the desk's clock, not the upload's. "
            "Consumers do not text citizens about it; absent from events of older registries"
        ),
    )


class TicketRecalledV1(_TicketEvent):
    """A desk called an already called ticket again (display boards repeat the number)."""

    event_type = "botram.ticket.recalled.v1"

    number: str
    desk: str | None = None
    recalls: int = Field(ge=1, description="How many times this ticket was called again")
    recalled_at: datetime


class TicketNoShowV1(_TicketEvent):
    """A called ticket's holder did not come to the desk."""

    event_type = "botram.ticket.no_show.v1"

    no_show_at: datetime | None = Field(
        default=None,
        description="When the desk marked it (absent from events of older registries)",
    )
    recorded_offline: bool | None = Field(
        default=None,
        description=(
            "True when an offline desk recorded this and uploaded it later (hours later, or "
            "after the session closed): its time is the desk's clock, not the upload's. "
            "Consumers do not text citizens about it; absent from events of older registries"
        ),
    )


class TicketExpiredV1(_TicketEvent):
    """The session closed while the ticket still waited: unserved demand."""

    event_type = "botram.ticket.expired.v1"

    number: str
    expired_at: datetime


class TicketCancelledV1(_TicketEvent):
    """The session was cancelled (an emergency) while the ticket still waited."""

    event_type = "botram.ticket.cancelled.v1"

    number: str
    reason: str
    cancelled_at: datetime


# What an agency may record on a finished ticket (v1: a document is ready to collect).
FollowUpKind = Literal["document_ready"]
FollowUpPlace = Annotated[str, StringConstraints(min_length=1, max_length=200)]
FollowUpNote = Annotated[str, StringConstraints(max_length=500)]


class ServiceFollowedUpV1(_TicketEvent):
    """An agency recorded a follow-up on a served or referred ticket: e.g. the document the
    citizen applied for is ready to collect, where and until when. No personal data."""

    event_type = "botram.service.followed_up.v1"

    follow_up_id: str
    kind: FollowUpKind
    place: FollowUpPlace = Field(description="Where to collect it (an office, a desk)")
    until: Date | None = Field(default=None, description="Collect it by this day")
    note: FollowUpNote | None = Field(
        default=None, description="What the agency added for the citizen (never personal data)"
    )
    outcome: Outcome = Field(description="How the ticket ended: served or referred")
    completed_at: datetime | None = None
    followed_up_at: datetime
    seconds_since_completion: float = Field(
        ge=0, description="From the ticket's completion to this follow-up: the time to ready"
    )


class CitizenFollowUpSharedV1(BotramEvent):
    """PRIVATE: the phone of a citizen whose ticket got a follow-up, for one message.

    Travels on `botram.private.citizen.follow_up_shared.v1.<session_id>`, in the private
    stream (48 hours at most); the registry keeps the phone of a served or referred ticket's
    holder only for `BOTRAM_FOLLOW_UP_CONTACT_DAYS` after the session, and forgets it once
    this event is staged; the notifier forgets it once the message is sent.
    """

    event_type = "botram.citizen.follow_up_shared.v1"
    subject_fields = ("session_id",)
    producer = "registry"
    private = True

    follow_up_id: str
    ticket_id: str
    check_in_id: str
    session_id: str
    service: Slug
    number: str
    phone: str = Field(pattern=r"^\+?[0-9]{8,15}$")
    kind: FollowUpKind
    place: FollowUpPlace
    until: Date | None = None
    note: FollowUpNote | None = None
    status_link: str | None = Field(
        default=None, description="The ticket's public status page, which shows the follow-up"
    )


class Period(EventData):
    """A closed date range."""

    start: Date = Field(alias="from")
    end: Date = Field(alias="to")

    model_config = EventData.model_config | {"populate_by_name": True}


class RankedService(EventData):
    service: Slug
    agency: Slug
    tickets: int = Field(ge=0)


class DemandRankedV1(BotramEvent):
    """Services ranked by demand (tickets issued) over a period, for one level."""

    event_type = "botram.demand.ranked.v1"
    subject_fields = ("level",)
    producer = "reporting"

    period: Period
    level: Level
    ranking: list[RankedService]


SkmScore = Annotated[int, Field(ge=1, le=4)]


class SurveyAnsweredV1(BotramEvent):
    """A citizen answered the satisfaction survey (SKM, PermenPAN-RB 14/2017) after a service.

    Anonymous: no citizen pseudonym, no ticket or check-in id (either would link the answers
    to a person); `survey_id` is a fresh random id of this answer alone. `u1`…`u9` are the
    nine SKM elements, each 1 (tidak baik) to 4 (sangat baik).
    """

    event_type = "botram.survey.answered.v1"
    subject_fields = ("agency", "service")
    producer = "registry"
    anonymous = True

    survey_id: str = Field(description="A random id of this answer (not the ticket's)")
    session_id: str
    service: Slug
    agency: Slug
    level: Level
    kecamatan: Slug
    desa: Slug | None = None
    date: Date = Field(description="The session's date (WIB)")
    sex: Sex | None = None
    age_band: AgeBand | None = None
    resident: bool | None = None
    u1: SkmScore = Field(description="Persyaratan")
    u2: SkmScore = Field(description="Sistem, mekanisme dan prosedur")
    u3: SkmScore = Field(description="Waktu penyelesaian")
    u4: SkmScore = Field(description="Biaya/tarif")
    u5: SkmScore = Field(description="Produk spesifikasi jenis pelayanan")
    u6: SkmScore = Field(description="Kompetensi pelaksana")
    u7: SkmScore = Field(description="Perilaku pelaksana")
    u8: SkmScore = Field(description="Penanganan pengaduan, saran dan masukan")
    u9: SkmScore = Field(description="Sarana dan prasarana")

    def scores(self) -> tuple[int, ...]:
        """The nine answers, u1 first."""
        return tuple(getattr(self, f"u{i}") for i in range(1, 10))


EVENT_MODELS: dict[str, type[BotramEvent]] = {
    model.event_type: model
    for model in (
        SessionScheduledV1,
        SessionRescheduledV1,
        SessionUpdatedV1,
        SessionCancelledV1,
        SessionOpenedV1,
        SessionClosedV1,
        CitizenCheckedInV1,
        CitizenTicketsAddedV1,
        CitizenContactSharedV1,
        CitizenPreRegisteredV1,
        TicketCalledV1,
        TicketRecalledV1,
        ServiceCompletedV1,
        TicketNoShowV1,
        TicketExpiredV1,
        TicketCancelledV1,
        ServiceFollowedUpV1,
        CitizenFollowUpSharedV1,
        DemandRankedV1,
        SurveyAnsweredV1,
    )
}
"""Every event type in the catalogue, by its CloudEvents `type`."""
