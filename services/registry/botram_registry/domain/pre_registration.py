"""Registering citizens ahead of a session: arrival slots, their places, and the head start.

A desa office or a cadre (`front-desk`) registers a citizen for an upcoming session with an
arrival slot. The rules:

- **Slots**: the session's day cut into windows of `slot_minutes` (30) from its start to its
  end (the last one shorter when the day does not divide evenly); each slot takes at most
  `slot_capacity` (10) pre-registered citizens.
- **Places**: a pre-registration holds one place in the quota of each service it names until
  it is checked in or its slot ends. Walk-ins and pre-registrations share a quota: tickets
  issued plus places held never exceed it. At the end of its slot an unused place is
  released (nothing to sweep: a place is held only while `now < slot end`), so walk-ins take it.
- **The head start** (fair interleaving): a pre-registered citizen who checks in by the end
  of their slot joins each queue ahead of the walk-ins who arrived less than `head_start`
  (15) minutes before them, and behind everyone who has waited longer: as if they had come
  `head_start` minutes earlier. Among themselves, and among walk-ins, first come first
  served; the priority class (lansia, disabilitas, ibu hamil) is unchanged: a priority
  pre-registration is a priority ticket, and the calls still alternate between the classes
  as before. Late (after the slot): an ordinary walk-in, if a place is left.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from botram_contracts.vocabulary import SessionStatus
from botram_runtime.actors import Actor
from botram_runtime.clock import JAKARTA, as_utc
from botram_runtime.errors import Conflict, Invalid, NotFound

# The code the QR encodes and a desk types: no 0/O, 1/I/L, so it reads back unambiguously.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10


class PreRegistrationStatus(StrEnum):
    BOOKED = "booked"  # holds its places until its slot ends
    CHECKED_IN = "checked_in"


@dataclass(frozen=True, slots=True)
class Slot:
    """An arrival window, WIB wall clock."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class PreRegister:
    """Register a citizen ahead of a session. Personal data stays out of its repr."""

    session_id: str
    nik: str = field(repr=False)
    name: str = field(repr=False)
    services: tuple[str, ...]
    slot: time
    phone: str | None = field(default=None, repr=False)
    priority: bool = False
    actor: Actor = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class PreRegistered:
    pre_registration_id: str
    session_id: str
    code: str
    slot: Slot
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckInPreRegistered:
    """Check a pre-registered citizen in by the code of their QR (or typed)."""

    session_id: str
    code: str
    actor: Actor = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class SlotCount:
    """A slot and how many of its places are taken (public: counts only)."""

    slot: Slot
    capacity: int
    booked: int


@dataclass(frozen=True, slots=True)
class PreRegistrationView:
    """A pre-registration as its public page (the SMS link, the QR) shows it: no personal
    data, only where and when."""

    code: str
    date: date
    place: str
    slot: Slot
    services: tuple[str, ...]
    checked_in: bool


def place_of(level: str, kecamatan: str, desa: str | None) -> str:
    """`Desa Ciantra` or `Kecamatan Sukatani`, from the slugs."""
    if level == "desa" and desa:
        return "Desa " + desa.replace("-", " ").title()
    return "Kecamatan " + kecamatan.replace("-", " ").title()


def slots_of(start: time, end: time, minutes: int) -> list[Slot]:
    """The session's day in windows of `minutes` from `start` to `end`."""
    day = date(2000, 1, 3)
    at, last = datetime.combine(day, start), datetime.combine(day, end)
    slots: list[Slot] = []
    while at < last:
        until = min(at + timedelta(minutes=minutes), last)
        slots.append(Slot(at.time(), until.time()))
        at = until
    return slots


def find_slot(slots: Sequence[Slot], asked: time) -> Slot:
    """The slot that starts at `asked` (422 `unknown-slot` otherwise, naming the valid ones)."""
    for slot in slots:
        if slot.start == asked.replace(tzinfo=None):
            return slot
    starts = ", ".join(slot.start.strftime("%H:%M") for slot in slots) or "none"
    raise Invalid(f"no arrival slot starts at {asked:%H:%M}; slots: {starts}", code="unknown-slot")


def moment(day: date, wall: time) -> datetime:
    """A WIB wall-clock time on a day, as an aware UTC datetime."""
    return as_utc(datetime.combine(day, wall, tzinfo=JAKARTA).astimezone(tz=None))


def require_upcoming(session_id: str, status: SessionStatus | None) -> None:
    """Pre-registration is for a session the registry knows that is scheduled or open."""
    if status is None:
        raise NotFound("session", session_id)
    if status not in (SessionStatus.SCHEDULED, SessionStatus.OPENED):
        raise Conflict(
            f"session {session_id} is {status}: pre-registration closed",
            code="session-not-upcoming",
        )


def check_slot(slot_end: datetime, now: datetime, booked: int, capacity: int) -> None:
    """A slot still to come (409 `slot-passed`) with a place left (409 `slot-full`)."""
    if now >= slot_end:
        raise Conflict("this arrival slot has already ended", code="slot-passed")
    if booked >= capacity:
        raise Conflict(
            f"slot penuh: all {capacity} places of this arrival slot are taken", code="slot-full"
        )


def check_places(service_name: str, issued: int, held: int, quota: int | None) -> None:
    """Tickets issued and places held together stay within a service's quota (409
    `quota-full`)."""
    if quota is not None and issued + held + 1 > quota:
        raise Conflict(
            f"kuota habis: all {quota} places of {service_name} are taken", code="quota-full"
        )


def holds_place(status: PreRegistrationStatus, slot_end: datetime, now: datetime) -> bool:
    """A booked pre-registration holds its places until its slot ends; then they are released."""
    return status == PreRegistrationStatus.BOOKED and now < as_utc(slot_end)


def require_booked(status: PreRegistrationStatus) -> None:
    if status != PreRegistrationStatus.BOOKED:
        raise Conflict("this pre-registration has already been checked in", code="already-used")


def on_time(now: datetime, slot_end: datetime) -> bool:
    """Checked in by the end of the slot: the head start applies."""
    return now < as_utc(slot_end)


def normalize_code(typed: str) -> str:
    """A code as typed or scanned: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch.isalnum())


def display_code(code: str) -> str:
    """`ABCDE-FGHJK`: easier to read out and type."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def queue_key(seq: int, anchor: int | None) -> tuple[int, int, int]:
    """A ticket's place in its queue's order of arrival (within its class). A pre-registered
    ticket checked in on time is anchored at the first ticket issued within the head start
    before it (`anchor`, its seq) and goes just before it, after earlier anchored ones; every
    other ticket is placed by its number. The registry's queries order by this key."""
    return (seq, 1, seq) if anchor is None else (anchor, 0, seq)
