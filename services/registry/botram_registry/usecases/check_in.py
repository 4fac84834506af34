"""Checking citizens in: one at a time, or the new ones that arrive together in one group.

Group commit: check-ins that arrive while a group is being stored form the next group
(`batching.Batcher`, wired by `main`), stored in one transaction with one statement per
table. Only the common case is grouped: a citizen not yet checked in at an open session,
asking for services it offers, each citizen once. Anything else (a repeat, a closed session,
an unknown service, a quota reached, a race lost to another transaction) comes back as None
and goes through the single path, which gives the exact answer or problem. Both paths apply
the same rules (`domain.check_in`), so a grouped check-in is never different from a single one.
"""

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

import structlog
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_contracts.ids import new_id_text
from botram_contracts.vocabulary import SessionStatus
from botram_registry import events, issuing, store
from botram_registry.deps import Deps
from botram_registry.domain.check_in import (
    Admission,
    Arrival,
    CheckIn,
    CheckInResult,
    Identity,
    PendingCheckIn,
    admit,
    check_services,
    groupable,
    identify,
    require_open,
    services_to_add,
)
from botram_registry.domain.nik import RULES_IN_WORDS, InvalidNik, mask_nik, parse_nik
from botram_registry.domain.queue import place_in_queue
from botram_registry.domain.screens import NikCheck
from botram_registry.domain.tickets import TicketSlip, TicketStatus
from botram_registry.events import AddedTickets, NewCheckIn
from botram_registry.issuing import CitizenFacts
from botram_registry.store import (
    CheckInRow,
    SessionRow,
    TicketRow,
    priority_streak,
    retry_lost_race,
    services_ticketed,
    tickets_of_check_in,
    waiting_in,
)
from botram_registry.usecases.ticketing import TicketOrder, issue_tickets
from botram_runtime import audit
from botram_runtime.clock import local_today
from botram_runtime.outbox import stage_event

log = structlog.get_logger(__name__)


async def check_in(deps: Deps, command: CheckIn) -> CheckInResult:
    """Check a citizen in and issue a ticket per service.

    The same NIK at the same session again (`created` False) gets the tickets this request
    issued, for services not asked for before (`added_services`), and only the numbers of the
    tickets held already (`held_numbers`): whoever repeats a NIK learns no more than a slip
    says. It never changes the stored name or phone, and the notifier keeps the phone it has
    (`usecases.contact` changes it: issue 11, attack 2).
    """
    identity = identify_citizen(deps, command.nik)
    if deps.group_commit is not None:
        grouped = await deps.group_commit.submit(PendingCheckIn(command, identity))
        if grouped is not None:
            return grouped
    return await retry_lost_race(lambda: _check_in_alone(deps, command, identity))


def identify_citizen(deps: Deps, nik: str) -> Identity:
    settings = deps.settings
    return identify(
        nik,
        today=local_today(deps.clock),
        key=settings.pseudonym_key.get_secret_value().encode(),
        regency_code=settings.regency_code,
    )


async def _check_in_alone(deps: Deps, command: CheckIn, identity: Identity) -> CheckInResult:
    async with deps.db.transaction() as tx:
        return await check_in_within(tx, deps, command, identity, Arrival())


async def check_in_within(
    tx: AsyncSession, deps: Deps, command: CheckIn, identity: Identity, arrival: Arrival
) -> CheckInResult:
    """The single path, inside the caller's transaction: all of it is stored, or none.

    An offline desk's check-in (`arrival.recorded_at`) is also taken at a session closed since
    (its upload window is checked by `usecases.offline`): its tickets are issued at the time
    recorded; its phone is neither stored nor shared then, as phones are erased at the close."""
    now = deps.clock()
    session = await tx.get(SessionRow, command.session_id)
    if arrival.recorded_at is None or session is None or session.status != SessionStatus.CLOSED:
        session = require_open(command.session_id, session)
    else:
        command = replace(command, phone=None)
    issued_at = arrival.recorded_at or now
    citizen = await issuing.upsert_citizen(tx, _citizen_facts(command, identity), now)
    existing_id = await issuing.check_in_of(tx, session.id, citizen.id)
    if existing_id is not None:
        existing = await tx.get(CheckInRow, existing_id)
        assert existing is not None
        added = await _add_services(tx, deps, session, existing, command, identity, now, issued_at)
        audit.record(
            tx,
            command.actor,
            "add_services" if added else "check_in_repeated",
            session_id=session.id,
            check_in_id=existing.id,
            services=added or None,
        )
        return await result_of(tx, deps, existing, command.nik, shown=added, added_services=added)
    check_services(deps.catalogue, session.services, command.services)
    row, admission = _new_check_in(deps, session, citizen.id, command, identity, arrival, now)
    await issuing.insert_check_ins(tx, [row])
    order = TicketOrder(row.id, row.priority, row.services, command.ahead_of_since)
    [tickets] = await issue_tickets(tx, deps, session, [order], now, issued_at=issued_at)
    new = _news(session, row, identity, admission, citizen.resident, tickets)
    return _announce(tx, deps, new, command)


async def check_in_group(deps: Deps, items: list[PendingCheckIn]) -> list[CheckInResult | None]:
    """Store the new check-ins among `items`, one transaction per session; None for each item
    the caller must check in on the single path."""
    results: list[CheckInResult | None] = [None] * len(items)
    by_session: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_session.setdefault(item.command.session_id, []).append(index)
    for session_id, indexes in by_session.items():
        try:
            stored = await _group_at_session(deps, session_id, [items[i] for i in indexes])
        except Exception as error:  # the single path redoes them all and reports exactly
            log.debug("check_in_group_fell_back", size=len(indexes), error=type(error).__name__)
            continue
        for index, result in zip(indexes, stored, strict=True):
            results[index] = result
    return results


async def _group_at_session(
    deps: Deps, session_id: str, items: list[PendingCheckIn]
) -> list[CheckInResult | None]:
    now = deps.clock()
    results: list[CheckInResult | None] = [None] * len(items)
    async with deps.db.transaction() as tx:
        session = await tx.get(SessionRow, session_id)
        chosen = groupable(session_id, session, items, deps.catalogue)
        if session is None or not chosen:
            return results
        # Sorted by pseudonym: two groups lock citizen rows in one order (PostgreSQL).
        order = sorted(chosen, key=lambda i: items[i].identity.pseudonym)
        stored = await issuing.upsert_citizens(
            tx, [_citizen_facts(items[i].command, items[i].identity) for i in order], now
        )
        citizens = dict(zip(order, stored, strict=True))
        already = await issuing.checked_in_already(
            tx, session_id, [citizen.id for citizen in citizens.values()]
        )
        chosen = [i for i in chosen if citizens[i].id not in already]
        if not chosen:
            return results
        created = [
            _new_check_in(
                deps, session, citizens[i].id, items[i].command, items[i].identity, Arrival(), now
            )
            for i in chosen
        ]
        await issuing.insert_check_ins(tx, [row for row, _ in created])
        tickets = await issue_tickets(
            tx,
            deps,
            session,
            [TicketOrder(row.id, row.priority, row.services) for row, _ in created],
            now,
        )
        for index, (row, admission), issued in zip(chosen, created, tickets, strict=True):
            item, resident = items[index], citizens[index].resident
            new = _news(session, row, item.identity, admission, resident, issued)
            results[index] = _announce(tx, deps, new, item.command)
    return results


def _citizen_facts(command: CheckIn, identity: Identity) -> CitizenFacts:
    return CitizenFacts(
        pseudonym=identity.pseudonym,
        nik=command.nik,
        name=command.name,
        phone=command.phone,
        sex=identity.sex,
        birth_date=identity.birth_date,
        resident=identity.resident,
    )


def _new_check_in(
    deps: Deps,
    session: SessionRow,
    citizen_id: str,
    command: CheckIn,
    identity: Identity,
    arrival: Arrival,
    now: datetime,
) -> tuple[CheckInRow, Admission]:
    """A new check-in as the rules make it (not stored yet)."""
    admission = admit(command, identity.birth_date, session.date, deps.settings.lansia_age)
    row = CheckInRow(
        id=new_id_text(),
        session_id=session.id,
        citizen_id=citizen_id,
        priority=admission.priority,
        priority_reasons=admission.priority_reasons,
        services=admission.services,
        checked_in_at=now,
        recorded_at=arrival.recorded_at,
        device_id=arrival.device_id,
    )
    return row, admission


def _news(
    session: SessionRow,
    row: CheckInRow,
    identity: Identity,
    admission: Admission,
    resident: bool,
    tickets: Sequence[TicketSlip],
) -> NewCheckIn:
    return NewCheckIn(
        session=session,
        check_in=row,
        citizen=identity.pseudonym,
        sex=identity.sex,
        age=admission.age,
        resident=resident,  # as first recorded
        tickets=tickets,
    )


def _announce(tx: AsyncSession, deps: Deps, new: NewCheckIn, command: CheckIn) -> CheckInResult:
    """Stage a new check-in's events (the phone only on the private subject); its result."""
    stage_event(tx, events.checked_in(new))
    _share_contact(tx, deps, new.check_in, command.phone, new.tickets)
    audit.record(
        tx,
        command.actor,
        "check_in",
        session_id=new.session.id,
        check_in_id=new.check_in.id,
        ticket_ids=[ticket.ticket_id for ticket in new.tickets],
    )
    return CheckInResult(
        check_in_id=new.check_in.id,
        session_id=new.session.id,
        nik=mask_nik(command.nik),
        priority=new.check_in.priority,
        tickets=tuple(new.tickets),
        created=True,
    )


def _share_contact(
    tx: AsyncSession,
    deps: Deps,
    check_in: CheckInRow,
    phone: str | None,
    tickets: Sequence[TicketSlip],
) -> None:
    """The phone for the notifier (private), with each ticket's status link for the SMS when
    the registry knows its public address (`BOTRAM_PUBLIC_URL`)."""
    event = events.contact_shared(check_in, phone, tickets, deps.settings.public_url)
    if event is not None:
        stage_event(tx, event)


async def _add_services(
    tx: AsyncSession,
    deps: Deps,
    session: SessionRow,
    check_in: CheckInRow,
    command: CheckIn,
    identity: Identity,
    now: datetime,
    issued_at: datetime | None = None,
) -> list[str]:
    """Issue tickets for the services an existing check-in has no ticket for yet (at
    `issued_at`, an offline desk's recorded time, when given)."""
    new = services_to_add(command.services, await services_ticketed(tx, check_in.id))
    if not new:
        return []
    check_services(deps.catalogue, session.services, new)
    order = TicketOrder(check_in.id, check_in.priority, new)
    [tickets] = await issue_tickets(tx, deps, session, [order], now, issued_at=issued_at)
    check_in.services = [*check_in.services, *new]
    tx.add(check_in)
    at = issued_at or now
    added = AddedTickets(session, check_in, identity.pseudonym, "added", tickets, at)
    stage_event(tx, events.tickets_added(added))
    # The phone the citizen gave before, never this request's (attack 2 of issue 11); none
    # once the session closed (its phones are erased).
    if session.status != SessionStatus.CLOSED:
        phone = await store.phone_of(tx, check_in.citizen_id)
        _share_contact(tx, deps, check_in, phone, tickets)
    return new


async def result_of(
    tx: AsyncSession,
    deps: Deps,
    check_in: CheckInRow,
    nik: str,
    *,
    shown: Sequence[str] | None = None,
    added_services: Sequence[str] = (),
) -> CheckInResult:
    """An existing check-in and its tickets as they are now, in the order asked for; a waiting
    ticket's position is its place in its queue's fair order now.

    With `shown`, only the tickets of those services are given in full; of the others only
    their numbers (`held_numbers`)."""
    rows = await tickets_of_check_in(tx, check_in.id)
    order = {code: index for index, code in enumerate(check_in.services)}
    ordered = sorted(rows, key=lambda t: (order.get(t.service, len(order)), t.issued_at))
    given = set(check_in.services if shown is None else shown)
    tickets = [t for t in ordered if t.service in given]
    held = tuple(t.number for t in ordered if t.service not in given)
    return CheckInResult(
        check_in_id=check_in.id,
        session_id=check_in.session_id,
        nik=mask_nik(nik),
        priority=check_in.priority,
        tickets=tuple([await slip_of(tx, deps, t) for t in tickets]),
        created=False,
        added_services=tuple(added_services),
        held_numbers=held,
    )


async def slip_of(tx: AsyncSession, deps: Deps, ticket: TicketRow) -> TicketSlip:
    """A stored ticket as its holder sees it now."""
    return TicketSlip(
        ticket_id=ticket.id,
        service=ticket.service,
        agency=ticket.agency,
        number=ticket.number,
        position=await _place_now(tx, deps, ticket),
        status=TicketStatus(ticket.status),
        transferred_from=ticket.transferred_from,
        status_code=ticket.status_code,
    )


async def _place_now(tx: AsyncSession, deps: Deps, ticket: TicketRow) -> int:
    """A ticket's place in its queue's fair order (0 once it is no longer waiting)."""
    if ticket.status != TicketStatus.WAITING:
        return 0
    waiting = await waiting_in(tx, ticket.session_id, ticket.service)
    streak = await priority_streak(tx, ticket.session_id, ticket.service)
    return place_in_queue(waiting, ticket.id, streak, deps.settings.priority_calls_per_regular)


def check_nik(deps: Deps, nik: str) -> NikCheck:
    """A NIK as the check-in would judge it today, the rule it breaks in words (no storage)."""
    try:
        parse_nik(nik, today=local_today(deps.clock))
    except InvalidNik as refused:
        return NikCheck(valid=False, rule=refused.rule, reason=RULES_IN_WORDS[refused.rule])
    return NikCheck(valid=True)
