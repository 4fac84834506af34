"""Registry use cases: each takes its dependencies as arguments and owns one transaction."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_registry.domain import NotFound, RegistryError, Waiting, choose_next, next_streak
from botram_registry.domain import ticket_number as format_number
from botram_registry.nik import InvalidNik, age_band, age_on, mask_nik, parse_nik, pseudonym
from botram_registry.schemas import (
    CheckInRequest,
    CheckInResponse,
    QueueStatus,
    ServiceQueue,
    TicketPublic,
)
from botram_registry.settings import Settings
from botram_registry.store import CheckInRow, CitizenRow, QueueRow, SessionRow, TicketRow
from botram_shared.bus import RetryLater
from botram_shared.clock import Clock, as_utc, local_today
from botram_shared.db import Database
from botram_shared.events import (
    CitizenCheckedInV1,
    CloudEvent,
    ServiceCompletedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketNoShowV1,
    TicketRef,
)
from botram_shared.inbox import claim_event
from botram_shared.outbox import stage_event
from botram_shared.reference import Catalogue

SERVICE = "registry"
SESSION_CONSUMER = "registry-sessions"


@dataclass(frozen=True)
class Registry:
    """The registry's dependencies, built once at start-up."""

    db: Database
    clock: Clock
    catalogue: Catalogue
    settings: Settings


# --- sessions, learned from the scheduler's events --------------------------------------


async def apply_session_event(registry: Registry, event: CloudEvent[Any]) -> None:
    """Keep the local copy of a session in step with the scheduler (exactly once per event)."""
    data = event.data
    async with registry.db.transaction() as session:
        if not await claim_event(session, SESSION_CONSUMER, str(event.id)):
            return
        row = await session.get(SessionRow, data.session_id)
        if isinstance(data, SessionScheduledV1):
            row = row or SessionRow(id=data.session_id, status="scheduled")
            row.level, row.kecamatan, row.desa = data.level, data.kecamatan, data.desa
            row.date, row.start, row.end = data.date, data.start, data.end
            row.services, row.quotas = list(data.services), dict(data.quotas)
        elif row is None:
            # A lifecycle event overtook the session's announcement: apply it once that arrives.
            raise RetryLater(f"session {data.session_id} not known yet")
        elif isinstance(data, SessionOpenedV1):
            row.status = "opened"
        elif isinstance(data, SessionClosedV1):
            row.status = "closed"
        elif isinstance(data, SessionCancelledV1):
            row.status = "cancelled"
        elif isinstance(data, SessionRescheduledV1):
            row.date = data.date
            row.start, row.end = data.start or row.start, data.end or row.end
        row.updated_at = registry.clock()
        session.add(row)


# --- check-in ---------------------------------------------------------------------------


async def check_in(
    registry: Registry, session_id: str, request: CheckInRequest
) -> tuple[CheckInResponse, bool]:
    """Check a citizen in and issue a ticket per service; `True` when the check-in is new.

    The same NIK at the same session again returns the tickets issued the first time.
    """
    now = registry.clock()
    try:
        facts = parse_nik(request.nik, today=local_today(registry.clock))
    except InvalidNik as error:
        raise RegistryError(f"invalid-nik-{error.rule}", str(error)) from error
    settings = registry.settings
    citizen_key = pseudonym(request.nik, settings.pseudonym_key.get_secret_value().encode())
    async with registry.db.transaction() as session:
        row = await _open_session(session, session_id)
        citizen = await _upsert_citizen(session, request, facts, citizen_key, settings, now)
        existing = (
            await session.exec(
                select(CheckInRow).where(
                    CheckInRow.session_id == session_id, CheckInRow.citizen_id == citizen.id
                )
            )
        ).first()
        if existing is not None:
            return await _check_in_response(session, existing, request.nik), False
        _check_services(registry.catalogue, row, request.services)
        age = age_on(facts.birth_date, row.date)
        priority = request.priority or age >= settings.lansia_age
        check_in_row = CheckInRow(
            id=str(uuid4()),
            session_id=session_id,
            citizen_id=citizen.id,
            priority=priority,
            services=list(dict.fromkeys(request.services)),
            checked_in_at=now,
        )
        session.add(check_in_row)
        tickets = [
            await _issue_ticket(session, registry.catalogue, row, check_in_row, code, now)
            for code in check_in_row.services
        ]
        stage_event(
            session,
            CitizenCheckedInV1(
                check_in_id=check_in_row.id,
                session_id=session_id,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
                desa=row.desa,
                citizen=citizen_key,
                sex=facts.sex,
                age_band=age_band(age),  # type: ignore[arg-type]
                resident=citizen.resident,
                priority=priority,
                tickets=[TicketRef(**t.model_dump(exclude={"status"})) for t in tickets],
                checked_in_at=now,
            ),
            SERVICE,
        )
        response = CheckInResponse(
            check_in_id=check_in_row.id,
            session_id=session_id,
            nik=mask_nik(request.nik),
            priority=priority,
            tickets=tickets,
        )
    return response, True


async def _open_session(session: AsyncSession, session_id: str) -> SessionRow:
    row = await session.get(SessionRow, session_id)
    if row is None:
        raise NotFound("session", session_id)
    if row.status != "opened":
        raise RegistryError(
            "session-not-open", f"session {session_id} is {row.status}, not open", status=409
        )
    return row


def _check_services(catalogue: Catalogue, row: SessionRow, codes: list[str]) -> None:
    unknown = [code for code in codes if code not in catalogue]
    if unknown:
        raise RegistryError("unknown-service", f"unknown service code(s): {', '.join(unknown)}")
    missing = [code for code in codes if code not in row.services]
    if missing:
        raise RegistryError(
            "service-not-offered", f"not offered at this session: {', '.join(missing)}", status=409
        )


async def _upsert_citizen(
    session: AsyncSession,
    request: CheckInRequest,
    facts: Any,
    citizen_key: str,
    settings: Settings,
    now: datetime,
) -> CitizenRow:
    citizen = (
        await session.exec(select(CitizenRow).where(CitizenRow.pseudonym == citizen_key))
    ).first()
    if citizen is None:
        citizen = CitizenRow(
            id=str(uuid4()),
            nik=request.nik,
            pseudonym=citizen_key,
            sex=facts.sex,
            birth_date=facts.birth_date,
            resident=facts.regency_code == settings.regency_code,
            created_at=now,
        )
    citizen.name = request.name
    citizen.phone = request.phone or citizen.phone
    citizen.nik = request.nik
    citizen.last_seen_at = now
    session.add(citizen)
    await session.flush()
    return citizen


async def _issue_ticket(
    session: AsyncSession,
    catalogue: Catalogue,
    row: SessionRow,
    check_in_row: CheckInRow,
    code: str,
    now: datetime,
) -> TicketPublic:
    service = catalogue.get(code)
    queue = await _queue(session, row.id, code)
    quota = row.quotas.get(code)
    if quota is not None and queue.issued >= quota:
        raise RegistryError(
            "quota-full",
            f"kuota habis: {service.name} has issued all {quota} tickets for this session",
            status=409,
        )
    queue.issued += 1
    session.add(queue)
    ticket = TicketRow(
        id=str(uuid4()),
        session_id=row.id,
        check_in_id=check_in_row.id,
        service=code,
        agency=service.agency,
        seq=queue.issued,
        number=format_number(service.ticket_prefix, queue.issued),
        priority=check_in_row.priority,
        issued_at=now,
    )
    session.add(ticket)
    await session.flush()
    return TicketPublic(
        ticket_id=ticket.id,
        service=code,
        agency=service.agency,
        number=ticket.number,
        position=await _position(session, ticket),
    )


async def _queue(session: AsyncSession, session_id: str, service: str) -> QueueRow:
    """The queue row, locked for this transaction (PostgreSQL; SQLite locks the database)."""
    queue = (
        await session.exec(
            select(QueueRow)
            .where(QueueRow.session_id == session_id, QueueRow.service == service)
            .with_for_update()
        )
    ).first()
    if queue is None:
        queue = QueueRow(session_id=session_id, service=service)
        session.add(queue)
        await session.flush()
    return queue


async def _position(session: AsyncSession, ticket: TicketRow) -> int:
    ahead = (
        await session.exec(
            select(func.count()).where(
                TicketRow.session_id == ticket.session_id,
                TicketRow.service == ticket.service,
                TicketRow.status == "waiting",
                col(TicketRow.seq) < ticket.seq,
            )
        )
    ).one()
    return int(ahead) + 1


async def _check_in_response(
    session: AsyncSession, check_in_row: CheckInRow, nik: str
) -> CheckInResponse:
    rows = (
        await session.exec(select(TicketRow).where(TicketRow.check_in_id == check_in_row.id))
    ).all()
    order = {code: index for index, code in enumerate(check_in_row.services)}
    tickets = sorted(rows, key=lambda t: (order.get(t.service, len(order)), t.issued_at))
    return CheckInResponse(
        check_in_id=check_in_row.id,
        session_id=check_in_row.session_id,
        nik=mask_nik(nik),
        priority=check_in_row.priority,
        tickets=[
            TicketPublic(
                ticket_id=t.id,
                service=t.service,
                agency=t.agency,
                number=t.number,
                position=await _position(session, t) if t.status == "waiting" else 0,
                status=t.status,
            )
            for t in tickets
        ],
    )


# --- desks ------------------------------------------------------------------------------


async def call_next(
    registry: Registry, session_id: str, service: str, desk: str | None
) -> TicketRow:
    """Call the next ticket of a service's queue, fairly; two desks never get the same one."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        row = await session.get(SessionRow, session_id)
        if row is None:
            raise NotFound("session", session_id)
        if service not in row.services:
            raise RegistryError(
                "service-not-offered", f"{service} is not offered at this session", status=404
            )
        queue = await _queue(session, session_id, service)
        waiting = (
            await session.exec(
                select(TicketRow.id, TicketRow.priority)
                .where(
                    TicketRow.session_id == session_id,
                    TicketRow.service == service,
                    TicketRow.status == "waiting",
                )
                .order_by(col(TicketRow.seq))
            )
        ).all()
        chosen = choose_next(
            [Waiting(ticket_id=t[0], priority=t[1]) for t in waiting],
            queue.priority_streak,
            registry.settings.priority_calls_per_regular,
        )
        if chosen is None:
            raise RegistryError("queue-empty", f"nobody is waiting for {service}", status=404)
        queue.priority_streak = next_streak(chosen, queue.priority_streak)
        session.add(queue)
        ticket = await session.get(TicketRow, chosen.ticket_id)
        assert ticket is not None
        ticket.status, ticket.desk, ticket.called_at = "called", desk, now
        session.add(ticket)
        stage_event(
            session,
            TicketCalledV1(
                ticket_id=ticket.id,
                session_id=session_id,
                service=service,
                agency=ticket.agency,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
                number=ticket.number,
                desk=desk,
                waited_seconds=_seconds(ticket.issued_at, now),
                called_at=now,
            ),
            SERVICE,
        )
    return ticket


async def complete_ticket(
    registry: Registry, ticket_id: str, outcome: str, note: str | None
) -> TicketRow:
    """Finish a called ticket: served, referred or rejected."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        ticket, row = await _ticket_in_state(session, ticket_id, "called", "complete")
        ticket.status, ticket.outcome, ticket.note, ticket.completed_at = (
            "completed",
            outcome,
            note,
            now,
        )
        session.add(ticket)
        citizen_key = (
            await session.exec(
                select(CitizenRow.pseudonym)
                .join(CheckInRow, col(CheckInRow.citizen_id) == col(CitizenRow.id))
                .where(CheckInRow.id == ticket.check_in_id)
            )
        ).one()
        assert ticket.called_at is not None
        stage_event(
            session,
            ServiceCompletedV1(
                ticket_id=ticket.id,
                check_in_id=ticket.check_in_id,
                session_id=ticket.session_id,
                citizen=citizen_key,
                service=ticket.service,
                agency=ticket.agency,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
                outcome=outcome,  # type: ignore[arg-type]
                waited_seconds=_seconds(ticket.issued_at, ticket.called_at),
                service_seconds=_seconds(ticket.called_at, now),
                desk=ticket.desk,
                completed_at=now,
            ),
            SERVICE,
        )
    return ticket


async def mark_no_show(registry: Registry, ticket_id: str) -> TicketRow:
    """A called citizen did not come to the desk."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        ticket, row = await _ticket_in_state(session, ticket_id, "called", "mark as no-show")
        ticket.status, ticket.completed_at = "no_show", now
        session.add(ticket)
        stage_event(
            session,
            TicketNoShowV1(
                ticket_id=ticket.id,
                session_id=ticket.session_id,
                service=ticket.service,
                agency=ticket.agency,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
            ),
            SERVICE,
        )
    return ticket


async def _ticket_in_state(
    session: AsyncSession, ticket_id: str, required: str, action: str
) -> tuple[TicketRow, SessionRow]:
    ticket = (
        await session.exec(select(TicketRow).where(TicketRow.id == ticket_id).with_for_update())
    ).first()
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    if ticket.status != required:
        raise RegistryError(
            "ticket-state",
            f"cannot {action} ticket {ticket.number}: it is {ticket.status}, not {required}",
            status=409,
        )
    row = await session.get(SessionRow, ticket.session_id)
    assert row is not None
    return ticket, row


async def get_ticket(registry: Registry, ticket_id: str) -> TicketRow:
    async with registry.db.session() as session:
        ticket = await session.get(TicketRow, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


def _seconds(start: datetime, end: datetime) -> float:
    return max((as_utc(end) - as_utc(start)).total_seconds(), 0.0)


async def queue_status(registry: Registry, session_id: str) -> QueueStatus:
    """Per service: waiting, being served, served so far, and the estimated wait."""
    async with registry.db.session() as session:
        row = await session.get(SessionRow, session_id)
        if row is None:
            raise NotFound("session", session_id)
        tickets = (
            await session.exec(
                select(TicketRow)
                .where(TicketRow.session_id == session_id)
                .order_by(col(TicketRow.seq))
            )
        ).all()
    services = []
    for code in row.services:
        mine = [t for t in tickets if t.service == code]
        done = [t for t in mine if t.status == "completed" and t.called_at and t.completed_at]
        durations = [_seconds(t.called_at, t.completed_at) for t in done]  # type: ignore[arg-type]
        prior = registry.catalogue.get(code).mean_service_minutes * 60
        mean = sum(durations) / len(durations) if durations else prior
        waiting = sum(1 for t in mine if t.status == "waiting")
        called = [t.number for t in mine if t.status == "called"]
        services.append(
            ServiceQueue(
                service=code,
                agency=registry.catalogue.get(code).agency,
                waiting=waiting,
                called=len(called),
                served=sum(1 for t in done if t.outcome == "served"),
                now_serving=called,
                mean_service_seconds=round(mean, 1),
                estimated_wait_seconds=round(waiting * mean, 1),
            )
        )
    return QueueStatus(session_id=session_id, status=row.status, services=services)
