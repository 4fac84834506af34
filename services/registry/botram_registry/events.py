"""The registry's events, built from its rows and results: the one place that makes them.

No personal data leaves through here except the phone, and only on the private subject
(`contact_shared`); events name the citizen by pseudonym and coarse attributes.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, TypeVar

from botram_contracts.events import (
    UP_NEXT_LENGTH,
    BotramEvent,
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    CitizenFollowUpSharedV1,
    CitizenPreRegisteredV1,
    CitizenTicketsAddedV1,
    ServiceCompletedV1,
    ServiceFollowedUpV1,
    SurveyAnsweredV1,
    TicketCalledV1,
    TicketCancelledV1,
    TicketExpiredV1,
    TicketNoShowV1,
    TicketRecalledV1,
    TicketRef,
    WaitingTicketRef,
)
from botram_contracts.events.models import Sex
from botram_contracts.vocabulary import Outcome
from botram_registry.domain.nik import age_band, age_on
from botram_registry.domain.pre_registration import display_code
from botram_registry.domain.queue import Waiting
from botram_registry.domain.tickets import TicketSlip, seconds_between
from botram_registry.followups_store import FollowUpRow
from botram_registry.pre_registration_store import PreRegistrationRow
from botram_registry.store import CheckInRow, CitizenRow, SessionRow, TicketRow
from botram_runtime.actors import Actor

Event = TypeVar("Event", bound=BotramEvent)


@dataclass(frozen=True, slots=True)
class NewCheckIn:
    """A check-in just stored with its tickets: what `citizen.checked_in` says of it."""

    session: SessionRow
    check_in: CheckInRow
    citizen: str  # pseudonym
    sex: Sex
    age: int  # on the session's date; events carry its band only
    resident: bool
    tickets: Sequence[TicketSlip]


@dataclass(frozen=True, slots=True)
class AddedTickets:
    """Tickets added to an existing check-in: more services asked for, or a transfer."""

    session: SessionRow
    check_in: CheckInRow
    citizen: str  # pseudonym
    reason: Literal["added", "transferred"]
    tickets: Sequence[TicketSlip]
    at: datetime


def ticket_refs(tickets: Sequence[TicketSlip]) -> list[TicketRef]:
    return [
        TicketRef(
            ticket_id=t.ticket_id,
            service=t.service,
            agency=t.agency,
            number=t.number,
            position=t.position,
            transferred_from=t.transferred_from,
        )
        for t in tickets
    ]


def checked_in(new: NewCheckIn) -> CitizenCheckedInV1:
    return CitizenCheckedInV1(
        check_in_id=new.check_in.id,
        session_id=new.session.id,
        level=new.session.level,
        kecamatan=new.session.kecamatan,
        desa=new.session.desa,
        citizen=new.citizen,
        sex=new.sex,
        age_band=age_band(new.age),
        resident=new.resident,
        priority=new.check_in.priority,
        tickets=ticket_refs(new.tickets),
        # An offline desk's check-in is counted when (and on the day) it was recorded.
        checked_in_at=new.check_in.recorded_at or new.check_in.checked_in_at,
        recorded_offline=True if new.check_in.recorded_at is not None else None,
    )


def tickets_added(added: AddedTickets) -> CitizenTicketsAddedV1:
    return CitizenTicketsAddedV1(
        check_in_id=added.check_in.id,
        session_id=added.session.id,
        level=added.session.level,
        kecamatan=added.session.kecamatan,
        desa=added.session.desa,
        citizen=added.citizen,
        priority=added.check_in.priority,
        reason=added.reason,
        tickets=ticket_refs(added.tickets),
        added_at=added.at,
    )


def contact_shared(
    check_in: CheckInRow,
    phone: str | None,
    tickets: Sequence[TicketSlip],
    public_url: str | None = None,
) -> CitizenContactSharedV1 | None:
    """The phone, for the notifier only (private subject); None without a phone or tickets.
    With the registry's public address, each ticket's status link (the code is a secret of
    the ticket's holder: it travels on the private subject only)."""
    if not (phone and tickets):
        return None
    links = {
        t.ticket_id: f"{public_url.rstrip('/')}/t/{t.status_code}"
        for t in tickets
        if public_url and t.status_code
    }
    return CitizenContactSharedV1(
        check_in_id=check_in.id,
        session_id=check_in.session_id,
        phone=phone,
        tickets=ticket_refs(tickets),
        status_links=links or None,
    )


def pre_registered(
    row: PreRegistrationRow, session: SessionRow, place: str, qr_link: str
) -> CitizenPreRegisteredV1 | None:
    """The slot, the code and the phone, for the notifier's SMS only (private subject); None
    without a phone."""
    if not row.phone:
        return None
    return CitizenPreRegisteredV1(
        pre_registration_id=row.id,
        session_id=session.id,
        phone=row.phone,
        date=session.date,
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        place=place,
        services=row.services,
        code=display_code(row.code),
        qr_link=qr_link,
    )


def _ticket_event(
    model: type[Event], ticket: TicketRow, session: SessionRow, **fields: Any
) -> Event:
    """A ticket event: the ticket, its service, and where it was (level, kecamatan)."""
    return model(
        ticket_id=ticket.id,
        session_id=ticket.session_id,
        service=ticket.service,
        agency=ticket.agency,
        level=session.level,
        kecamatan=session.kecamatan,
        **fields,
    )


def ticket_called(
    ticket: TicketRow,
    session: SessionRow,
    now: datetime,
    up_next: Sequence[Waiting],
    actor: Actor | None = None,
    out_of_turn: bool = False,
    offline: bool = False,
) -> TicketCalledV1:
    """A call, and who comes next in the queue's fair order (the first `UP_NEXT_LENGTH`)."""
    return _ticket_event(
        TicketCalledV1,
        ticket,
        session,
        number=ticket.number,
        desk=ticket.desk,
        waited_seconds=seconds_between(ticket.issued_at, now),
        called_at=now,
        out_of_turn=out_of_turn or None,
        recorded_offline=offline or None,
        actor=_sub(actor),
        up_next=[
            WaitingTicketRef(ticket_id=w.ticket_id, number=w.number)
            for w in up_next[:UP_NEXT_LENGTH]
        ],
    )


def ticket_recalled(
    ticket: TicketRow, session: SessionRow, now: datetime, actor: Actor | None = None
) -> TicketRecalledV1:
    return _ticket_event(
        TicketRecalledV1,
        ticket,
        session,
        number=ticket.number,
        desk=ticket.desk,
        recalls=ticket.recalls,
        recalled_at=now,
        actor=_sub(actor),
    )


def ticket_no_show(
    ticket: TicketRow, session: SessionRow, actor: Actor | None = None, offline: bool = False
) -> TicketNoShowV1:
    return _ticket_event(
        TicketNoShowV1,
        ticket,
        session,
        no_show_at=ticket.completed_at,
        recorded_offline=offline or None,
        actor=_sub(actor),
    )


def waiting_ended(
    ticket: TicketRow, session: SessionRow, now: datetime, reason: str | None
) -> TicketExpiredV1 | TicketCancelledV1:
    """A waiting ticket ended by its session's end: expired at a close, cancelled with the
    session's reason at a cancellation."""
    if reason is None:
        return _ticket_event(TicketExpiredV1, ticket, session, number=ticket.number, expired_at=now)
    return _ticket_event(
        TicketCancelledV1, ticket, session, number=ticket.number, reason=reason, cancelled_at=now
    )


def _sub(actor: Actor | None) -> str | None:
    """The desk officer's opaque id for an event (never a name): the token's `sub`."""
    return None if actor is None else actor.sub


def service_completed(
    ticket: TicketRow,
    session: SessionRow,
    citizen: str,
    desk: str | None,
    now: datetime,
    actor: Actor | None = None,
    offline: bool = False,
) -> ServiceCompletedV1:
    """A called ticket finished (or transferred: outcome referred, `transferred_to` set)."""
    assert ticket.called_at is not None and ticket.outcome is not None
    return _ticket_event(
        ServiceCompletedV1,
        ticket,
        session,
        check_in_id=ticket.check_in_id,
        citizen=citizen,
        outcome=ticket.outcome,
        waited_seconds=seconds_between(ticket.issued_at, ticket.called_at),
        service_seconds=seconds_between(ticket.called_at, now),
        desk=desk or ticket.desk,
        completed_at=now,
        transferred_to=ticket.transferred_to,
        recorded_offline=offline or None,
        actor=_sub(actor),
    )


def followed_up(
    row: FollowUpRow, ticket: TicketRow, session: SessionRow, outcome: Outcome, actor: Actor
) -> ServiceFollowedUpV1:
    """A follow-up for the agency's subscribers and reporting: no personal data, and no
    ticket number either (the place and note are the agency's own words)."""
    return _ticket_event(
        ServiceFollowedUpV1,
        ticket,
        session,
        follow_up_id=row.id,
        kind=row.kind.value,
        place=row.place,
        until=row.until,
        note=row.note,
        outcome=outcome,
        completed_at=row.completed_at,
        followed_up_at=row.followed_up_at,
        seconds_since_completion=(
            seconds_between(row.completed_at, row.followed_up_at) if row.completed_at else 0.0
        ),
        actor=_sub(actor),
    )


def follow_up_shared(
    row: FollowUpRow, ticket: TicketRow, phone: str | None, public_url: str | None
) -> CitizenFollowUpSharedV1 | None:
    """The phone and what to tell, for the notifier only (private subject); None without a
    phone. With the registry's public address, the ticket's status page, which shows it."""
    if not phone:
        return None
    link = None
    if public_url and ticket.status_code:
        link = f"{public_url.rstrip('/')}/t/{ticket.status_code}"
    return CitizenFollowUpSharedV1(
        follow_up_id=row.id,
        ticket_id=ticket.id,
        check_in_id=ticket.check_in_id,
        session_id=ticket.session_id,
        service=ticket.service,
        number=ticket.number,
        phone=phone,
        kind=row.kind.value,
        place=row.place,
        until=row.until,
        note=row.note,
        status_link=link,
    )


def survey_answered(
    survey_id: str,
    ticket: TicketRow,
    session: SessionRow,
    citizen: CitizenRow | None,
    scores: Sequence[int],
) -> SurveyAnsweredV1:
    """The answers, anonymous: the session's place and date, the service, the coarse
    attributes the check-in already published; no pseudonym, no ticket or check-in id."""
    answers = {f"u{index}": score for index, score in enumerate(scores, start=1)}
    return SurveyAnsweredV1.model_validate(
        {
            "survey_id": survey_id,
            "session_id": session.id,
            "service": ticket.service,
            "agency": ticket.agency,
            "level": session.level,
            "kecamatan": session.kecamatan,
            "desa": session.desa,
            "date": session.date,
            "sex": citizen.sex if citizen else None,
            "age_band": age_band(age_on(citizen.birth_date, session.date)) if citizen else None,
            "resident": citizen.resident if citizen else None,
            **answers,
        }
    )
