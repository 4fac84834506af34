"""Registry use cases: each takes its dependencies as arguments and owns one transaction."""

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from uuid import uuid4

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.events import (
    CitizenCheckedInV1,
    CitizenContactSharedV1,
    CitizenTicketsAddedV1,
    CloudEvent,
    ServiceCompletedV1,
    SessionCancelledV1,
    SessionClosedV1,
    SessionOpenedV1,
    SessionRescheduledV1,
    SessionScheduledV1,
    TicketCalledV1,
    TicketNoShowV1,
    TicketRecalledV1,
    TicketRef,
)
from botram_contracts.reference import Catalogue
from botram_registry.domain import (
    NotFound,
    RegistryError,
    Waiting,
    choose_next,
    estimated_wait,
    fair_order,
    next_streak,
)
from botram_registry.issuing import (
    CHECK_IN_OF_CITIZEN,
    Citizen,
    CitizenFacts,
    TicketOrder,
    insert_check_ins,
    issue_ticket_group,
    upsert_citizen,
)
from botram_registry.nik import (
    InvalidNik,
    NikFacts,
    age_band,
    age_on,
    mask_nik,
    parse_nik,
    pseudonym,
)
from botram_registry.schemas import (
    CheckInRequest,
    CheckInResponse,
    ItemProblem,
    OfflineBatch,
    OfflineBatchResult,
    OfflineCheckIn,
    OfflineResult,
    QueueStatus,
    ServiceQueue,
    TicketPublic,
    WaitingPosition,
)
from botram_registry.settings import Settings
from botram_registry.store import (
    CheckInRow,
    CitizenRow,
    OfflineCheckInRow,
    QueueRow,
    SessionRow,
    TicketActionRow,
    TicketRow,
)
from botram_runtime.bus import RetryLater
from botram_runtime.clock import Clock, as_utc, local_today
from botram_runtime.db import Database
from botram_runtime.inbox import claim_event
from botram_runtime.outbox import stage_event

SESSION_CONSUMER = "registry-sessions"
T = TypeVar("T")
# (session id, request, NIK facts, pseudonym) -> the new check-in, or None to check in singly.
GroupCheckIn = Callable[[str, CheckInRequest, NikFacts, str], Awaitable[CheckInResponse | None]]


@dataclass(frozen=True)
class Registry:
    """The registry's dependencies, built once at start-up."""

    db: Database
    clock: Clock
    catalogue: Catalogue
    settings: Settings
    # Group commit of new check-ins (group_check_in); None checks every citizen in singly.
    group_check_in: GroupCheckIn | None = None


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


@dataclass(frozen=True)
class Arrival:
    """Where a check-in came from: a desk online, or an offline desk's upload."""

    recorded_at: datetime | None = None
    device_id: str | None = None


async def check_in(
    registry: Registry, session_id: str, request: CheckInRequest
) -> tuple[CheckInResponse, bool]:
    """Check a citizen in and issue a ticket per service; `True` when the check-in is new.

    The same NIK at the same session again returns the tickets issued the first time, plus
    tickets for services not asked for before (`added_services`).
    """
    facts, citizen_key = _identify(registry, request)
    if registry.group_check_in is not None:
        grouped = await registry.group_check_in(session_id, request, facts, citizen_key)
        if grouped is not None:
            return grouped, True
    return await _retrying_race(
        lambda: _check_in_once(registry, session_id, request, facts, citizen_key, Arrival())
    )


def _identify(registry: Registry, request: CheckInRequest) -> tuple[NikFacts, str]:
    try:
        facts = parse_nik(request.nik, today=local_today(registry.clock))
    except InvalidNik as error:
        raise RegistryError(f"invalid-nik-{error.rule}", str(error)) from error
    key = registry.settings.pseudonym_key.get_secret_value().encode()
    return facts, pseudonym(request.nik, key)


async def _retrying_race(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run a check-in; when a concurrent one for the same citizen won the race, run it again
    (it then finds that check-in instead of creating a second one)."""
    try:
        return await attempt()
    except IntegrityError:
        return await attempt()


async def _check_in_once(
    registry: Registry,
    session_id: str,
    request: CheckInRequest,
    facts: NikFacts,
    citizen_key: str,
    arrival: Arrival,
) -> tuple[CheckInResponse, bool]:
    async with registry.db.transaction() as session:
        return await _check_in_in(
            session, registry, session_id, request, facts, citizen_key, arrival
        )


async def _check_in_in(
    session: AsyncSession,
    registry: Registry,
    session_id: str,
    request: CheckInRequest,
    facts: NikFacts,
    citizen_key: str,
    arrival: Arrival,
) -> tuple[CheckInResponse, bool]:
    """The check-in inside the caller's transaction: all of it is stored, or none."""
    now = registry.clock()
    settings = registry.settings
    row = await open_session(session, session_id)
    citizen = await upsert_citizen(
        session,
        CitizenFacts(
            pseudonym=citizen_key,
            nik=request.nik,
            name=request.name,
            phone=request.phone,
            sex=facts.sex,
            birth_date=facts.birth_date,
            resident=facts.regency_code == settings.regency_code,
        ),
        now,
    )
    existing_id = (
        await session.exec(
            CHECK_IN_OF_CITIZEN, params={"session_id": session_id, "citizen_id": citizen.id}
        )
    ).scalar_one_or_none()
    if existing_id is not None:
        existing = await session.get(CheckInRow, existing_id)
        assert existing is not None
        added = await _add_services(session, registry, row, existing, request, citizen_key, now)
        response = await _check_in_response(session, existing, request.nik)
        return response.model_copy(update={"added_services": added}), False
    check_services(registry.catalogue, row, request.services)
    check_in_row, age = new_check_in_row(registry, row, citizen.id, request, facts, arrival, now)
    await insert_check_ins(session, [check_in_row])
    [tickets] = await issue_ticket_group(
        session,
        registry.catalogue,
        row,
        [TicketOrder(check_in_row.id, check_in_row.priority, check_in_row.services)],
        now,
    )
    response = announce_check_in(
        session, row, check_in_row, request, facts, age, citizen, citizen_key, tickets
    )
    return response, True


def new_check_in_row(
    registry: Registry,
    row: SessionRow,
    citizen_id: str,
    request: CheckInRequest,
    facts: NikFacts,
    arrival: Arrival,
    now: datetime,
) -> tuple[CheckInRow, int]:
    """A new check-in (not stored yet) and the citizen's age on the session's date."""
    age = age_on(facts.birth_date, row.date)
    priority = (
        request.priority or bool(request.priority_reasons) or age >= registry.settings.lansia_age
    )
    check_in_row = CheckInRow(
        id=str(uuid4()),
        session_id=row.id,
        citizen_id=citizen_id,
        priority=priority,
        priority_reasons=sorted(set(request.priority_reasons)),
        services=list(dict.fromkeys(request.services)),
        checked_in_at=now,
        recorded_at=arrival.recorded_at,
        device_id=arrival.device_id,
    )
    return check_in_row, age


def announce_check_in(
    session: AsyncSession,
    row: SessionRow,
    check_in_row: CheckInRow,
    request: CheckInRequest,
    facts: NikFacts,
    age: int,
    citizen: Citizen,
    citizen_key: str,
    tickets: list[TicketPublic],
) -> CheckInResponse:
    """Stage a new check-in's events (the phone only on the private subject); the response."""
    stage_event(
        session,
        CitizenCheckedInV1(
            check_in_id=check_in_row.id,
            session_id=row.id,
            level=row.level,  # type: ignore[arg-type]
            kecamatan=row.kecamatan,
            desa=row.desa,
            citizen=citizen_key,
            sex=facts.sex,
            age_band=age_band(age),  # type: ignore[arg-type]
            resident=citizen.resident,
            priority=check_in_row.priority,
            tickets=[_ticket_ref(t) for t in tickets],
            checked_in_at=check_in_row.checked_in_at,
        ),
    )
    _share_contact(session, request.phone, check_in_row, tickets)
    return CheckInResponse(
        check_in_id=check_in_row.id,
        session_id=row.id,
        nik=mask_nik(request.nik),
        priority=check_in_row.priority,
        tickets=tickets,
    )


def citizen_facts(
    request: CheckInRequest, facts: NikFacts, citizen_key: str, settings: Settings
) -> CitizenFacts:
    return CitizenFacts(
        pseudonym=citizen_key,
        nik=request.nik,
        name=request.name,
        phone=request.phone,
        sex=facts.sex,
        birth_date=facts.birth_date,
        resident=facts.regency_code == settings.regency_code,
    )


async def _add_services(
    session: AsyncSession,
    registry: Registry,
    row: SessionRow,
    check_in_row: CheckInRow,
    request: CheckInRequest,
    citizen_key: str,
    now: datetime,
) -> list[str]:
    """Issue tickets for the services an existing check-in has no ticket for yet."""
    held = set(
        (
            await session.exec(
                select(TicketRow.service).where(TicketRow.check_in_id == check_in_row.id)
            )
        ).all()
    )
    new = [code for code in dict.fromkeys(request.services) if code not in held]
    if not new:
        return []
    check_services(registry.catalogue, row, new)
    [tickets] = await issue_ticket_group(
        session,
        registry.catalogue,
        row,
        [TicketOrder(check_in_row.id, check_in_row.priority, new)],
        now,
    )
    check_in_row.services = [*check_in_row.services, *new]
    session.add(check_in_row)
    _stage_tickets_added(session, row, check_in_row, citizen_key, "added", tickets, now)
    _share_contact(session, request.phone, check_in_row, tickets)
    return new


def _ticket_ref(ticket: TicketPublic) -> TicketRef:
    return TicketRef(**ticket.model_dump(exclude={"status"}))


def _share_contact(
    session: AsyncSession, phone: str | None, check_in_row: CheckInRow, tickets: list[TicketPublic]
) -> None:
    """The phone goes to the notifier only, on the private subject no agency may read."""
    if phone and tickets:
        stage_event(
            session,
            CitizenContactSharedV1(
                check_in_id=check_in_row.id,
                session_id=check_in_row.session_id,
                phone=phone,
                tickets=[_ticket_ref(t) for t in tickets],
            ),
        )


async def open_session(session: AsyncSession, session_id: str) -> SessionRow:
    row = await session.get(SessionRow, session_id)
    if row is None:
        raise NotFound("session", session_id)
    if row.status != "opened":
        raise RegistryError(
            "session-not-open", f"session {session_id} is {row.status}, not open", status=409
        )
    return row


def check_services(catalogue: Catalogue, row: SessionRow, codes: list[str]) -> None:
    unknown = [code for code in codes if code not in catalogue]
    if unknown:
        raise RegistryError("unknown-service", f"unknown service code(s): {', '.join(unknown)}")
    missing = [code for code in codes if code not in row.services]
    if missing:
        raise RegistryError(
            "service-not-offered", f"not offered at this session: {', '.join(missing)}", status=409
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
                transferred_from=t.transferred_from,
            )
            for t in tickets
        ],
    )


# --- desks ------------------------------------------------------------------------------


def _record(
    session: AsyncSession, ticket: TicketRow, action: str, desk: str | None, at: datetime
) -> None:
    session.add(TicketActionRow(ticket_id=ticket.id, action=action, desk=desk, at=at))


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
        waiting = await _waiting(session, session_id, service)
        chosen = choose_next(
            waiting, queue.priority_streak, registry.settings.priority_calls_per_regular
        )
        if chosen is None:
            raise RegistryError("queue-empty", f"nobody is waiting for {service}", status=404)
        queue.priority_streak = next_streak(chosen, queue.priority_streak)
        queue.called += 1
        session.add(queue)
        ticket = await session.get(TicketRow, chosen.ticket_id)
        assert ticket is not None
        ticket.status, ticket.desk, ticket.called_at = "called", desk, now
        session.add(ticket)
        _record(session, ticket, "call", desk, now)
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
        )
    return ticket


async def _waiting(session: AsyncSession, session_id: str, service: str) -> list[Waiting]:
    rows = (
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
    return [Waiting(ticket_id=t[0], priority=t[1]) for t in rows]


async def recall(registry: Registry, ticket_id: str, desk: str | None) -> TicketRow:
    """Call a called ticket again (its holder did not answer yet)."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        ticket, row = await _ticket_in_state(session, ticket_id, "called", "recall")
        ticket.recalls += 1
        ticket.desk = desk or ticket.desk
        session.add(ticket)
        _record(session, ticket, "recall", desk or ticket.desk, now)
        stage_event(
            session,
            TicketRecalledV1(
                ticket_id=ticket.id,
                session_id=ticket.session_id,
                service=ticket.service,
                agency=ticket.agency,
                level=row.level,  # type: ignore[arg-type]
                kecamatan=row.kecamatan,
                number=ticket.number,
                desk=ticket.desk,
                recalls=ticket.recalls,
                recalled_at=now,
            ),
        )
    return ticket


async def complete_ticket(
    registry: Registry, ticket_id: str, outcome: str, note: str | None, desk: str | None = None
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
        _record(session, ticket, "complete", desk or ticket.desk, now)
        _stage_completed(session, ticket, row, await _citizen_of(session, ticket), desk, now)
    return ticket


async def _citizen_of(session: AsyncSession, ticket: TicketRow) -> str:
    return (
        await session.exec(
            select(CitizenRow.pseudonym)
            .join(CheckInRow, col(CheckInRow.citizen_id) == col(CitizenRow.id))
            .where(CheckInRow.id == ticket.check_in_id)
        )
    ).one()


def _stage_completed(
    session: AsyncSession,
    ticket: TicketRow,
    row: SessionRow,
    citizen_key: str,
    desk: str | None,
    now: datetime,
) -> None:
    assert ticket.called_at is not None and ticket.outcome is not None
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
            outcome=ticket.outcome,  # type: ignore[arg-type]
            waited_seconds=_seconds(ticket.issued_at, ticket.called_at),
            service_seconds=_seconds(ticket.called_at, now),
            desk=desk or ticket.desk,
            completed_at=now,
            transferred_to=ticket.transferred_to,
        ),
    )


async def transfer(
    registry: Registry, ticket_id: str, target: str, desk: str | None, note: str | None
) -> tuple[TicketRow, TicketPublic]:
    """Send a called citizen to another service: this ticket ends as referred, a new one is
    issued for the other service, linked both ways."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        ticket, row = await _ticket_in_state(session, ticket_id, "called", "transfer")
        if target == ticket.service:
            raise RegistryError(
                "transfer-same-service", f"ticket {ticket.number} is already for {target}"
            )
        check_services(registry.catalogue, row, [target])
        open_ticket = (
            await session.exec(
                select(TicketRow.number).where(
                    TicketRow.check_in_id == ticket.check_in_id,
                    TicketRow.service == target,
                    col(TicketRow.status).in_(("waiting", "called")),
                )
            )
        ).first()
        if open_ticket is not None:
            raise RegistryError(
                "already-queued",
                f"this citizen already has ticket {open_ticket} for {target}",
                status=409,
            )
        check_in_row = await session.get(CheckInRow, ticket.check_in_id)
        assert check_in_row is not None
        [[new]] = await issue_ticket_group(
            session,
            registry.catalogue,
            row,
            [TicketOrder(check_in_row.id, check_in_row.priority, [target])],
            now,
            transferred_from=ticket.id,
        )
        if target not in check_in_row.services:
            check_in_row.services = [*check_in_row.services, target]
            session.add(check_in_row)
        ticket.status, ticket.outcome, ticket.completed_at = "transferred", "referred", now
        ticket.note, ticket.transferred_to = note, new.ticket_id
        session.add(ticket)
        _record(session, ticket, "transfer", desk or ticket.desk, now)
        citizen_key = await _citizen_of(session, ticket)
        _stage_completed(session, ticket, row, citizen_key, desk, now)
        _stage_tickets_added(session, row, check_in_row, citizen_key, "transferred", [new], now)
    return ticket, new


async def mark_no_show(registry: Registry, ticket_id: str, desk: str | None = None) -> TicketRow:
    """A called citizen did not come to the desk."""
    now = registry.clock()
    async with registry.db.transaction() as session:
        ticket, row = await _ticket_in_state(session, ticket_id, "called", "mark as no-show")
        ticket.status, ticket.completed_at = "no_show", now
        session.add(ticket)
        _record(session, ticket, "no_show", desk or ticket.desk, now)
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


async def get_ticket(registry: Registry, ticket_id: str) -> tuple[TicketRow, list[TicketActionRow]]:
    """A ticket and every desk action on it, oldest first."""
    async with registry.db.session() as session:
        ticket = await session.get(TicketRow, ticket_id)
        if ticket is None:
            raise NotFound("ticket", ticket_id)
        actions = (
            await session.exec(
                select(TicketActionRow)
                .where(TicketActionRow.ticket_id == ticket_id)
                .order_by(col(TicketActionRow.id))
            )
        ).all()
    return ticket, list(actions)


def _seconds(start: datetime, end: datetime) -> float:
    return max((as_utc(end) - as_utc(start)).total_seconds(), 0.0)


# --- queue status -----------------------------------------------------------------------


async def queue_status(registry: Registry, session_id: str) -> QueueStatus:
    """Per service: waiting, being served, served so far, and the estimated waits."""
    now = registry.clock()
    settings = registry.settings
    since = now - timedelta(minutes=settings.desk_active_minutes)
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
        streaks = {
            q.service: q.priority_streak
            for q in (
                await session.exec(select(QueueRow).where(QueueRow.session_id == session_id))
            ).all()
        }
        desks = (
            await session.exec(
                select(TicketRow.service, TicketActionRow.desk)
                .join(TicketRow, col(TicketRow.id) == col(TicketActionRow.ticket_id))
                .where(
                    TicketRow.session_id == session_id,
                    col(TicketActionRow.desk).is_not(None),
                    col(TicketActionRow.at) >= since,
                )
                .distinct()
            )
        ).all()
    services = []
    for code in row.services:
        mine = [t for t in tickets if t.service == code]
        done = [t for t in mine if t.status == "completed" and t.called_at and t.completed_at]
        durations = [_seconds(t.called_at, t.completed_at) for t in done]  # type: ignore[arg-type]
        prior = registry.catalogue.get(code).mean_service_minutes * 60
        mean = sum(durations) / len(durations) if durations else prior
        called = [t.number for t in mine if t.status == "called"]
        # Desks that acted lately; a called ticket keeps a desk busy even if it gave no name.
        active = max(1, len({d for s, d in desks if s == code}), len(called))
        waiting = [Waiting(t.id, t.priority) for t in mine if t.status == "waiting"]
        numbers = {t.id: t.number for t in mine}
        per_regular = settings.priority_calls_per_regular
        order = fair_order(waiting, streaks.get(code, 0), per_regular)
        # A citizen checking in now joins the regular class (the common case).
        arrival = Waiting("", False)
        arrival_position = fair_order([*waiting, arrival], streaks.get(code, 0), per_regular)
        services.append(
            ServiceQueue(
                service=code,
                agency=registry.catalogue.get(code).agency,
                waiting=len(waiting),
                called=len(called),
                served=sum(1 for t in done if t.outcome == "served"),
                now_serving=called,
                mean_service_seconds=round(mean, 1),
                active_desks=active,
                estimated_wait_seconds=round(
                    estimated_wait(arrival_position.index(arrival) + 1, len(called), mean, active),
                    1,
                ),
                positions=[
                    WaitingPosition(
                        number=numbers[w.ticket_id],
                        position=index,
                        estimated_wait_seconds=round(
                            estimated_wait(index, len(called), mean, active), 1
                        ),
                    )
                    for index, w in enumerate(order, start=1)
                ],
            )
        )
    return QueueStatus(session_id=session_id, status=row.status, services=services)


# --- offline village desks --------------------------------------------------------------


async def check_in_batch(
    registry: Registry, session_id: str, batch: OfflineBatch
) -> OfflineBatchResult:
    """Check-ins an offline desk recorded: each item on its own, replays change nothing."""
    async with registry.db.session() as session:
        await open_session(session, session_id)
    results = [await _offline_item(registry, session_id, batch, item) for item in batch.items]
    return OfflineBatchResult(session_id=session_id, results=results)


def _fingerprint(registry: Registry, item: OfflineCheckIn) -> str:
    """Keyed digest of an item: a plain hash of a NIK would be brute-forced in minutes."""
    body = json.dumps(item.model_dump(mode="json"), sort_keys=True).encode()
    key = registry.settings.pseudonym_key.get_secret_value().encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


async def _offline_item(
    registry: Registry, session_id: str, batch: OfflineBatch, item: OfflineCheckIn
) -> OfflineResult:
    fingerprint = _fingerprint(registry, item)

    async def attempt() -> OfflineResult:
        async with registry.db.transaction() as session:
            seen = await session.get(OfflineCheckInRow, (session_id, item.client_id))
            if seen is not None:
                if seen.fingerprint != fingerprint:
                    return OfflineResult(
                        client_id=item.client_id,
                        result="conflict",
                        problem=ItemProblem(
                            status=409,
                            code="client-id-reused",
                            detail=f"client id {item.client_id} was already used for "
                            "another check-in at this session",
                        ),
                    )
                check_in_row = await session.get(CheckInRow, seen.check_in_id)
                assert check_in_row is not None
                return OfflineResult(
                    client_id=item.client_id,
                    result="replayed",
                    check_in=await _check_in_response(session, check_in_row, item.nik),
                )
            facts, citizen_key = _identify(registry, item)
            arrival = Arrival(recorded_at=item.recorded_at, device_id=batch.device_id)
            response, created = await _check_in_in(
                session, registry, session_id, item, facts, citizen_key, arrival
            )
            session.add(
                OfflineCheckInRow(
                    session_id=session_id,
                    client_id=item.client_id,
                    fingerprint=fingerprint,
                    check_in_id=response.check_in_id,
                    device_id=batch.device_id,
                    recorded_at=item.recorded_at,
                    received_at=registry.clock(),
                )
            )
            await session.flush()
            return OfflineResult(
                client_id=item.client_id,
                result="created" if created else "merged",
                check_in=response,
            )

    try:
        return await _retrying_race(attempt)
    except RegistryError as error:
        return OfflineResult(
            client_id=item.client_id,
            result="rejected",
            problem=ItemProblem(status=error.status, code=error.code, detail=str(error)),
        )


# --- personal data retention ------------------------------------------------------------


async def erase_expired_personal_data(registry: Registry) -> int:
    """Erase NIK, name, phone and priority reasons of citizens not seen within the retention
    period; returns how many citizens were erased. Events only ever had the pseudonym."""
    cutoff = registry.clock() - timedelta(days=registry.settings.personal_data_retention_days)
    async with registry.db.transaction() as session:
        expired = list(
            (
                await session.exec(
                    select(CitizenRow.id).where(
                        col(CitizenRow.last_seen_at) < cutoff,
                        col(CitizenRow.nik).is_not(None)
                        | col(CitizenRow.name).is_not(None)
                        | col(CitizenRow.phone).is_not(None),
                    )
                )
            ).all()
        )
        if expired:
            await session.exec(
                update(CitizenRow)
                .where(col(CitizenRow.id).in_(expired))
                .values(nik=None, name=None, phone=None)
            )
            await session.exec(
                update(CheckInRow)
                .where(col(CheckInRow.citizen_id).in_(expired))
                .values(priority_reasons=[])
            )
    return len(expired)


def _stage_tickets_added(
    session: AsyncSession,
    row: SessionRow,
    check_in_row: CheckInRow,
    citizen_key: str,
    reason: str,
    tickets: list[TicketPublic],
    now: datetime,
) -> None:
    """Announce tickets added to an existing check-in (more services, or a transfer)."""
    stage_event(
        session,
        CitizenTicketsAddedV1(
            check_in_id=check_in_row.id,
            session_id=row.id,
            level=row.level,  # type: ignore[arg-type]
            kecamatan=row.kecamatan,
            desa=row.desa,
            citizen=citizen_key,
            priority=check_in_row.priority,
            reason=reason,  # type: ignore[arg-type]
            tickets=[_ticket_ref(t) for t in tickets],
            added_at=now,
        ),
    )
