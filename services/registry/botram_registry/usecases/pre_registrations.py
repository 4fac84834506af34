"""Pre-registration: citizens registered ahead of a session with an arrival slot, and their
check-in at the fair by the code of their QR (rules: `domain.pre_registration`)."""

import secrets
from datetime import timedelta
from uuid import uuid4

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from botram_registry import events, store
from botram_registry.deps import Deps
from botram_registry.domain.check_in import Arrival, CheckIn, CheckInResult, check_services
from botram_registry.domain.pre_registration import (
    CODE_ALPHABET,
    CODE_LENGTH,
    CheckInPreRegistered,
    PreRegister,
    PreRegistered,
    PreRegistrationStatus,
    PreRegistrationView,
    Slot,
    SlotCount,
    check_places,
    check_slot,
    display_code,
    find_slot,
    moment,
    normalize_code,
    on_time,
    place_of,
    require_booked,
    require_upcoming,
    slots_of,
)
from botram_registry.pre_registration_store import (
    PreRegistrationRow,
    booked_by_slot,
    booked_in_slot,
    by_code,
    by_pseudonym,
    held_places,
)
from botram_registry.store import SessionRow, retry_lost_race
from botram_registry.usecases.check_in import check_in_within, identify_citizen
from botram_runtime import audit
from botram_runtime.errors import Conflict, NotFound
from botram_runtime.outbox import stage_event


async def pre_register(deps: Deps, command: PreRegister, qr_base: str) -> PreRegistered:
    """Register a citizen for an upcoming session's arrival slot; the notifier texts them the
    slot and the link to their QR code (`qr_base` + code) when a phone was given."""
    identity = identify_citizen(deps, command.nik)  # 422 for a NIK a check-in would refuse

    async def attempt() -> PreRegistered:
        async with deps.db.transaction() as tx:
            return await _pre_register(tx, deps, command, identity.pseudonym, qr_base)

    return await retry_lost_race(attempt)


async def _pre_register(
    tx: AsyncSession, deps: Deps, command: PreRegister, pseudonym: str, qr_base: str
) -> PreRegistered:
    settings, now = deps.settings, deps.clock()
    session = await _locked_session(tx, command.session_id)
    require_upcoming(command.session_id, None if session is None else session.status)
    assert session is not None
    services = list(dict.fromkeys(command.services))
    check_services(deps.catalogue, session.services, services)
    slot = find_slot(_slots(deps, session), command.slot)
    releases_at = moment(session.date, slot.end)
    if await by_pseudonym(tx, session.id, pseudonym) is not None:
        raise Conflict(
            "this NIK is already pre-registered for this session", code="already-pre-registered"
        )
    booked = await booked_in_slot(tx, session.id, slot.start)
    check_slot(releases_at, now, booked, settings.pre_registration_slot_capacity)
    held = await held_places(tx, session.id, now)
    for code in sorted(services):  # the queues' lock order of check-ins: no deadlock
        queue = await store.lock_queue(tx, session.id, code)
        quota = session.quotas.get(code)
        check_places(deps.catalogue.get(code).name, queue.issued, held[code], quota)
    row = PreRegistrationRow(
        id=str(uuid4()),
        session_id=session.id,
        code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
        pseudonym=pseudonym,
        nik=command.nik,
        name=command.name,
        phone=command.phone,
        priority=command.priority,
        services=services,
        slot_start=slot.start,
        slot_end=slot.end,
        releases_at=releases_at,
        status=PreRegistrationStatus.BOOKED,
        created_at=now,
    )
    tx.add(row)
    place = place_of(session.level, session.kecamatan, session.desa)
    event = events.pre_registered(row, session, place, qr_base + display_code(row.code))
    if event is not None:
        stage_event(tx, event)
    audit.record(
        tx, command.actor, "pre_register", session_id=session.id, pre_registration_id=row.id
    )
    return PreRegistered(row.id, session.id, display_code(row.code), slot, tuple(services))


async def check_in_pre_registered(deps: Deps, command: CheckInPreRegistered) -> CheckInResult:
    """Check a pre-registered citizen in at once by their code: an ordinary check-in (the
    same events), with the head start when they come by the end of their slot."""
    code = normalize_code(command.code)
    async with deps.db.transaction() as tx:
        row = await by_code(tx, code)
        if row is None or row.session_id != command.session_id:
            raise NotFound("pre-registration", display_code(code))
        require_booked(PreRegistrationStatus(row.status))
        now = deps.clock()
        head_start = timedelta(minutes=deps.settings.pre_registration_head_start_minutes)
        row.status, row.checked_in_at = PreRegistrationStatus.CHECKED_IN, now
        tx.add(row)
        await tx.flush()  # its own places are no longer held: the check-in takes them
        check_in = CheckIn(
            session_id=row.session_id,
            nik=row.nik or "",
            name=row.name or "",
            services=tuple(row.services),
            phone=row.phone,
            priority=row.priority,
            actor=command.actor,
            ahead_of_since=now - head_start if on_time(now, row.releases_at) else None,
        )
        result = await check_in_within(
            tx, deps, check_in, identify_citizen(deps, check_in.nik), Arrival()
        )
        # The citizen's row holds the personal data now.
        row.check_in_id, row.nik, row.name, row.phone = result.check_in_id, None, None, None
        tx.add(row)
        audit.record(
            tx,
            command.actor,
            "check_in_pre_registered",
            session_id=row.session_id,
            pre_registration_id=row.id,
            check_in_id=result.check_in_id,
        )
        return result


async def slot_counts(deps: Deps, session_id: str) -> list[SlotCount]:
    """A session's arrival slots and how many places each has taken (public: counts only)."""
    async with deps.db.transaction() as tx:
        session = await tx.get(SessionRow, session_id)
        if session is None:
            raise NotFound("session", session_id)
        booked = await booked_by_slot(tx, session_id)
    capacity = deps.settings.pre_registration_slot_capacity
    return [SlotCount(s, capacity, booked.get(s.start, 0)) for s in _slots(deps, session)]


async def pre_registration_view(deps: Deps, code: str) -> PreRegistrationView:
    """A pre-registration as its public page shows it (by its code: no personal data)."""
    async with deps.db.transaction() as tx:
        row = await by_code(tx, normalize_code(code))
        session = None if row is None else await tx.get(SessionRow, row.session_id)
    if row is None or session is None:
        raise NotFound("pre-registration", code)
    return PreRegistrationView(
        code=display_code(row.code),
        date=session.date,
        place=place_of(session.level, session.kecamatan, session.desa),
        slot=Slot(row.slot_start, row.slot_end),
        services=tuple(deps.catalogue.get(c).name for c in row.services if c in deps.catalogue),
        checked_in=row.status == PreRegistrationStatus.CHECKED_IN,
    )


def _slots(deps: Deps, session: SessionRow) -> list[Slot]:
    return slots_of(session.start, session.end, deps.settings.pre_registration_slot_minutes)


async def _locked_session(tx: AsyncSession, session_id: str) -> SessionRow | None:
    """The session, locked (PostgreSQL): pre-registrations for one session one at a time, so
    two never take a slot's last place together."""
    statement = select(SessionRow).where(SessionRow.id == session_id).with_for_update()
    return (await tx.exec(statement)).first()
