"""A desk acts only on its own agency's queues (and services, when its token names them)."""

import pytest

from botram_registry.domain.access import check_desk
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Forbidden


def desk(agency: str | None, services: set[str] | None = None) -> Actor:
    confined = None if services is None else frozenset(services)
    return Actor("desk-1", frozenset({Role.DESK}), agency=agency, services=confined)


def test_a_desk_acts_on_its_own_agencys_queue() -> None:
    check_desk(desk("dukcapil"), "dukcapil", "ktp-el")
    check_desk(desk("dukcapil", {"ktp-el"}), "dukcapil", "ktp-el")


def test_a_desk_of_another_agency_is_refused_naming_the_agency_needed() -> None:
    with pytest.raises(Forbidden) as refused:
        check_desk(desk("dukcapil"), "bpjs-kesehatan", "jkn-daftar")

    assert refused.value.code == "agency-required"
    assert "bpjs-kesehatan" in refused.value.detail


def test_a_desk_token_without_an_agency_is_refused() -> None:
    with pytest.raises(Forbidden):
        check_desk(desk(None), "dukcapil", "ktp-el")


def test_a_desk_confined_to_services_is_refused_another_service_of_its_agency() -> None:
    with pytest.raises(Forbidden) as refused:
        check_desk(desk("dukcapil", {"ktp-el"}), "dukcapil", "kk-baru")

    assert refused.value.code == "service-required"


def test_an_operator_acts_on_any_queue() -> None:
    operator = Actor("ops-1", frozenset({Role.OPERATOR}))

    check_desk(operator, "bpjs-kesehatan", "jkn-daftar")
