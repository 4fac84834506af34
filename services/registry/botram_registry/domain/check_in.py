"""Checking a citizen in: who they are, what they may ask for, and who is served first.

The single path (one check-in, one transaction) and the group commit (many new check-ins in
one transaction) apply these same functions; whatever a group cannot store under them goes
through the single path, which answers with the exact problem.
"""

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol, TypeVar

from botram_contracts.events.models import Sex
from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import SessionStatus
from botram_registry.domain.nik import age_on, parse_nik, pseudonym
from botram_registry.domain.tickets import TicketSlip
from botram_runtime.actors import Actor
from botram_runtime.errors import Conflict, DomainError, Invalid, NotFound


@dataclass(frozen=True, slots=True)
class CheckIn:
    """Check a citizen in at a session and issue a ticket per service asked for.

    Personal data (NIK, name, phone) stays out of its repr, hence out of logs and tracebacks.
    """

    session_id: str
    nik: str = field(repr=False)
    name: str = field(repr=False)
    services: tuple[str, ...]
    phone: str | None = field(default=None, repr=False)
    # Disabilitas or ibu hamil, declared at the desk (lansia is derived from the NIK).
    priority: bool = False
    priority_reasons: tuple[str, ...] = ()
    actor: Actor = field(kw_only=True)  # the front desk (or operator) checking them in
    # A pre-registered citizen on time: ahead of the tickets issued since (the head start).
    ahead_of_since: datetime | None = field(default=None, kw_only=True)


@dataclass(frozen=True, slots=True)
class ChangeContact:
    """Change the phone (and, when given, the name) of a checked-in citizen: a front-desk
    action of its own, audited; a repeat check-in never changes them."""

    check_in_id: str
    phone: str = field(repr=False)
    name: str | None = field(default=None, repr=False)
    actor: Actor = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class ContactChanged:
    """A contact change: the check-in and how many open tickets the notifier now follows."""

    check_in_id: str
    session_id: str
    tickets: int


@dataclass(frozen=True, slots=True)
class Arrival:
    """Where a check-in came from: a desk online (nothing to add), or an offline desk's upload
    (the device's own clock and its id)."""

    recorded_at: datetime | None = None
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """What a valid NIK tells of its holder, and the pseudonym events carry instead of it."""

    pseudonym: str
    sex: Sex
    birth_date: date
    resident: bool  # the NIK's regency is the regency Botram serves


@dataclass(frozen=True, slots=True)
class CheckInResult:
    """A check-in and its tickets, in the order the citizen asked for the services."""

    check_in_id: str
    session_id: str
    nik: str  # masked: 3216********0001
    priority: bool
    tickets: tuple[TicketSlip, ...]
    created: bool  # False: the citizen was checked in at this session already
    added_services: tuple[str, ...] = ()  # ticketed by this request on an existing check-in
    # A repeat check-in gives in full only the tickets it issued; of those held already, only
    # their numbers (whoever repeats a NIK learns no more than a slip already says).
    held_numbers: tuple[str, ...] = ()


def identify(nik: str, *, today: date, key: bytes, regency_code: str) -> Identity:
    """Validate the NIK (422 `invalid-nik-<rule>`) and derive what the registry keeps of it."""
    facts = parse_nik(nik, today=today)
    return Identity(
        pseudonym=pseudonym(nik, key),
        sex=facts.sex,
        birth_date=facts.birth_date,
        resident=facts.regency_code == regency_code,
    )


class Session(Protocol):
    """What the check-in rules read of a session (the registry's copy of it has all of it)."""

    @property
    def status(self) -> SessionStatus: ...
    @property
    def services(self) -> list[str]: ...


S = TypeVar("S", bound=Session)


def require_open(session_id: str, session: S | None) -> S:
    """Citizens check in only at a session the registry knows (None: it does not) and that
    is open now."""
    if session is None:
        raise NotFound("session", session_id)
    if session.status != SessionStatus.OPENED:
        raise Conflict(
            f"session {session_id} is {session.status}, not open", code="session-not-open"
        )
    return session


def check_services(catalogue: Catalogue, offered: Collection[str], codes: Sequence[str]) -> None:
    """Tickets only for services of the catalogue (422) that the session offers (409)."""
    unknown = [code for code in codes if code not in catalogue]
    if unknown:
        raise Invalid(f"unknown service code(s): {', '.join(unknown)}", code="unknown-service")
    missing = [code for code in codes if code not in offered]
    if missing:
        raise Conflict(
            f"not offered at this session: {', '.join(missing)}", code="service-not-offered"
        )


def is_priority(declared: bool, reasons: Sequence[str], age: int, lansia_age: int) -> bool:
    """Served with priority: disabilitas or ibu hamil (declared, or with a reason given), or
    lansia (`lansia_age` or older on the session's date, from the NIK)."""
    return declared or bool(reasons) or age >= lansia_age


@dataclass(frozen=True, slots=True)
class Admission:
    """A new check-in as the rules make it."""

    priority: bool
    priority_reasons: list[str]  # sorted, each once
    services: list[str]  # each once, in the order asked
    age: int  # on the session's date


def admit(command: CheckIn, birth_date: date, session_date: date, lansia_age: int) -> Admission:
    """What a new check-in records: its priority, the reasons for it, and the services."""
    age = age_on(birth_date, session_date)
    return Admission(
        priority=is_priority(command.priority, command.priority_reasons, age, lansia_age),
        priority_reasons=sorted(set(command.priority_reasons)),
        services=list(dict.fromkeys(command.services)),
        age=age,
    )


def services_to_add(asked: Iterable[str], held: Collection[str]) -> list[str]:
    """A returning citizen gets tickets for the services asked for that they hold none of."""
    return [code for code in dict.fromkeys(asked) if code not in held]


@dataclass(frozen=True, slots=True)
class PendingCheckIn:
    """A check-in waiting for the next group commit: the command and the citizen it names."""

    command: CheckIn
    identity: Identity


def groupable(
    session_id: str, session: Session | None, items: Sequence[PendingCheckIn], catalogue: Catalogue
) -> list[int]:
    """The indexes of the items a group commit may store at `session_id`: those the single
    path's rules accept (an open session, known and offered services), each citizen once."""
    try:
        offered = require_open(session_id, session).services
    except DomainError:
        return []
    chosen: list[int] = []
    citizens: set[str] = set()
    for index, item in enumerate(items):
        if item.identity.pseudonym in citizens:
            continue
        try:
            check_services(catalogue, offered, item.command.services)
        except DomainError:
            continue
        citizens.add(item.identity.pseudonym)
        chosen.append(index)
    return chosen
