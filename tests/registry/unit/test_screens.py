"""What the screens show, as pure rules: agencies' short names, quotas left, waiting counts."""

from datetime import date

from botram_registry.domain.nik import RULES_IN_WORDS, InvalidNik, parse_nik
from botram_registry.domain.screens import (
    AgencyWaiting,
    agency_label,
    quota_left,
    waiting_by_agency,
)
from botram_registry.domain.tickets import TicketSlip
from botram_registry.events import contact_shared, ticket_refs
from botram_registry.store import CheckInRow


def test_a_long_agency_name_is_shown_by_its_slug_in_words() -> None:
    assert agency_label("bpjs-kesehatan", "BPJS Kesehatan") == "BPJS Kesehatan"
    assert agency_label("dukcapil", "Dinas Kependudukan dan Pencatatan Sipil") == "Dukcapil"
    assert agency_label("pmi", "Palang Merah Indonesia Kabupaten Bekasi") == "PMI"


def test_the_quota_left_never_goes_below_zero_and_no_quota_is_none() -> None:
    assert quota_left(None, 30) is None
    assert quota_left(10, 3) == 7
    assert quota_left(10, 12) == 0


def test_agencies_are_listed_longest_queue_first() -> None:
    rows = waiting_by_agency(
        {"pmi": 2, "dukcapil": 5, "bapenda": 2},
        {"pmi": "PMI", "dukcapil": "Dukcapil", "bapenda": "Bapenda"},
    )
    assert rows == (
        AgencyWaiting("dukcapil", "Dukcapil", 5),
        AgencyWaiting("bapenda", "Bapenda", 2),
        AgencyWaiting("pmi", "PMI", 2),
    )


def test_every_nik_rule_has_its_words() -> None:
    rules = set()
    for nik in (
        "1",
        "9916050101900001",
        "3200050101900001",
        "3216000101900001",
        "3216050113900001",
        "3216050101900000",
    ):
        try:
            parse_nik(nik, today=date(2026, 12, 2))
        except InvalidNik as refused:
            rules.add(refused.rule)
    assert rules == set(RULES_IN_WORDS)


def test_the_sms_gets_each_tickets_status_link_on_the_private_subject_only() -> None:
    check_in = CheckInRow(id="c-1", session_id="s-1", citizen_id="p-1")
    slip = TicketSlip("t-1", "dukcapil-kk", "dukcapil", "KK-001", 1, status_code="abc")

    with_address = contact_shared(check_in, "081100001111", [slip], "https://botram.example/")
    without = contact_shared(check_in, "081100001111", [slip], None)

    assert with_address is not None and without is not None
    assert with_address.private
    assert with_address.status_links == {"t-1": "https://botram.example/t/abc"}
    assert without.status_links is None
    assert "abc" not in checked_in_refs([slip])


def checked_in_refs(slips: list[TicketSlip]) -> str:
    """What the public check-in event says of tickets."""
    return str([ref.model_dump() for ref in ticket_refs(slips)])
