"""The check-in's rules without I/O: an open session, offered services, who goes first."""

from dataclasses import dataclass, field
from datetime import date

import pytest

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import SessionStatus
from botram_registry.domain.check_in import (
    CheckIn,
    Identity,
    PendingCheckIn,
    admit,
    check_services,
    groupable,
    identify,
    is_priority,
    require_open,
    services_to_add,
)
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import DomainError

KK, JKN = "dukcapil-kk", "bpjs-kesehatan-pendaftaran"
SESSION_DAY = date(2024, 7, 6)


@dataclass
class Session:
    status: SessionStatus = SessionStatus.OPENED
    services: list[str] = field(default_factory=lambda: [KK, JKN])


def command(*services: str, **overrides: object) -> CheckIn:
    values: dict[str, object] = {
        "session_id": "s-1",
        "nik": "3216054507900001",
        "name": "Siti Aminah",
        "services": services or (KK,),
        "actor": Actor(sub="front-desk-1", roles=frozenset({Role.FRONT_DESK})),
    }
    return CheckIn(**(values | overrides))  # type: ignore[arg-type]


def pending(pseudonym: str, *services: str) -> PendingCheckIn:
    identity = Identity(pseudonym, "F", date(1990, 7, 5), resident=True)
    return PendingCheckIn(command(*services), identity)


@pytest.mark.parametrize(
    ("session", "code", "status"),
    [
        (None, "session-not-found", 404),
        (Session(SessionStatus.SCHEDULED), "session-not-open", 409),
        (Session(SessionStatus.CLOSED), "session-not-open", 409),
        (Session(SessionStatus.CANCELLED), "session-not-open", 409),
    ],
)
def test_citizens_check_in_only_at_a_known_open_session(
    session: Session | None, code: str, status: int
) -> None:
    with pytest.raises(DomainError) as error:
        require_open("s-1", session)

    assert (error.value.code, error.value.status) == (code, status)


def test_an_open_session_is_the_session() -> None:
    session = Session()

    assert require_open("s-1", session) is session


def test_tickets_only_for_known_services_the_session_offers(catalogue: Catalogue) -> None:
    check_services(catalogue, [KK, JKN], [KK, JKN])
    with pytest.raises(DomainError) as unknown:
        check_services(catalogue, [KK, JKN], [KK, "no-such-service"])
    with pytest.raises(DomainError) as missing:
        check_services(catalogue, [KK, JKN], [KK, "pmi-donor-darah"])

    assert (unknown.value.code, unknown.value.status) == ("unknown-service", 422)
    assert "no-such-service" in unknown.value.detail
    assert (missing.value.code, missing.value.status) == ("service-not-offered", 409)
    assert "pmi-donor-darah" in missing.value.detail


@pytest.mark.parametrize(
    ("declared", "reasons", "age", "expected"),
    [
        (False, (), 59, False),
        (False, (), 60, True),  # lansia from the NIK
        (True, (), 30, True),  # declared at the desk
        (False, ("disabilitas",), 30, True),
        (False, ("ibu-hamil",), 30, True),
    ],
)
def test_priority_is_lansia_or_declared(
    declared: bool, reasons: tuple[str, ...], age: int, expected: bool
) -> None:
    assert is_priority(declared, reasons, age, lansia_age=60) is expected


def test_a_citizen_turning_sixty_on_the_session_day_is_lansia() -> None:
    born = date(1964, 7, 6)

    assert admit(command(), born, SESSION_DAY, lansia_age=60).priority is True
    assert admit(command(), born, date(2024, 7, 5), lansia_age=60).priority is False


def test_a_new_check_in_keeps_each_service_once_in_order_and_sorted_reasons() -> None:
    asked = command(JKN, KK, JKN, priority_reasons=("ibu-hamil", "disabilitas", "ibu-hamil"))

    admission = admit(asked, date(1990, 1, 1), SESSION_DAY, lansia_age=60)

    assert admission.services == [JKN, KK]
    assert admission.priority_reasons == ["disabilitas", "ibu-hamil"]
    assert (admission.priority, admission.age) == (True, 34)


def test_a_returning_citizen_gets_tickets_only_for_services_not_held() -> None:
    assert services_to_add([KK, JKN, JKN], held={KK}) == [JKN]
    assert services_to_add([KK], held={KK, JKN}) == []


def test_identify_validates_the_nik_and_keeps_only_what_the_registry_needs() -> None:
    identity = identify("3216054507900001", today=SESSION_DAY, key=b"k", regency_code="3216")
    elsewhere = identify("3216054507900001", today=SESSION_DAY, key=b"k", regency_code="3275")

    assert (identity.sex, identity.birth_date, identity.resident) == ("F", date(1990, 7, 5), True)
    assert elsewhere.resident is False and len(identity.pseudonym) == 64
    with pytest.raises(DomainError) as error:
        identify("3216054507900000", today=SESSION_DAY, key=b"k", regency_code="3216")
    assert (error.value.code, error.value.status) == ("invalid-nik-serial", 422)


def test_a_group_takes_each_citizen_once_and_only_what_the_single_path_would_accept(
    catalogue: Catalogue,
) -> None:
    items = [
        pending("a", KK),
        pending("b", "pmi-donor-darah"),  # not offered: the single path answers
        pending("a", JKN),  # the same citizen again: the single path merges it
        pending("c", "no-such-service"),  # unknown: the single path answers
        pending("b", KK),  # b's first acceptable item
    ]

    assert groupable("s-1", Session(), items, catalogue) == [0, 4]
    assert groupable("s-1", Session(SessionStatus.CLOSED), items, catalogue) == []
    assert groupable("s-1", None, items, catalogue) == []
