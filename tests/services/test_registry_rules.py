"""Registry rules without I/O: the NIK and the fair queue."""

from datetime import date

import pytest

from botram_registry.domain import (
    Waiting,
    choose_next,
    estimated_wait,
    fair_order,
    next_streak,
    ticket_number,
)
from botram_registry.nik import InvalidNik, age_band, age_on, mask_nik, parse_nik, pseudonym

TODAY = date(2024, 7, 6)


def test_a_valid_nik_gives_sex_birth_date_and_regency() -> None:
    facts = parse_nik("3216054507900001", today=TODAY)

    assert (facts.sex, facts.birth_date, facts.regency_code) == ("F", date(1990, 7, 5), "3216")


def test_a_man_s_nik_has_the_plain_birth_day() -> None:
    facts = parse_nik("3216050101050002", today=TODAY)

    assert (facts.sex, facts.birth_date) == ("M", date(2005, 1, 1))


@pytest.mark.parametrize(
    ("nik", "rule"),
    [
        ("321605450790001", "length"),
        ("32160545079000a1", "length"),
        ("9916054507900001", "province"),
        ("3200054507900001", "regency"),
        ("3216004507900001", "kecamatan"),
        ("3216053202900001", "birth-date"),  # 32 February
        ("3216057207900001", "birth-date"),  # day 72 - 40 = 32
        ("3216054513900001", "birth-date"),  # month 13
        ("3216054507900000", "serial"),
    ],
)
def test_each_broken_rule_is_named(nik: str, rule: str) -> None:
    with pytest.raises(InvalidNik) as error:
        parse_nik(nik, today=TODAY)

    assert error.value.rule == rule
    assert nik not in str(error.value)


def test_the_pseudonym_is_keyed_stable_and_not_the_nik() -> None:
    first = pseudonym("3216054507900001", b"key-a")

    assert first == pseudonym("3216054507900001", b"key-a")
    assert first != pseudonym("3216054507900001", b"key-b")
    assert "3216054507900001" not in first and len(first) == 64


def test_a_masked_nik_keeps_only_the_regency_and_the_serial() -> None:
    assert mask_nik("3216054507900001") == "3216********0001"


def test_age_bands_are_coarse() -> None:
    assert age_on(date(1964, 7, 7), TODAY) == 59
    assert [age_band(a) for a in (5, 18, 44, 59, 60)] == ["0-17", "18-29", "30-44", "45-59", "60+"]


def test_ticket_numbers_carry_the_service_prefix() -> None:
    assert ticket_number("DUK", 7) == "DUK-007"


def call_order(queue: list[Waiting], per_regular: int) -> list[str]:
    order, streak, waiting = [], 0, list(queue)
    while (chosen := choose_next(waiting, streak, per_regular)) is not None:
        order.append(chosen.ticket_id)
        streak = next_streak(chosen, streak)
        waiting.remove(chosen)
    return order


def test_priority_tickets_go_first_but_never_starve_regular_ones() -> None:
    queue = [Waiting(f"r{i}", False) for i in range(3)] + [Waiting(f"p{i}", True) for i in range(5)]

    assert call_order(queue, per_regular=2) == ["p0", "p1", "r0", "p2", "p3", "r1", "p4", "r2"]


def test_each_class_is_first_in_first_out() -> None:
    queue = [Waiting("r0", False), Waiting("p0", True), Waiting("r1", False), Waiting("p1", True)]

    order = call_order(queue, per_regular=1)

    assert [t for t in order if t.startswith("r")] == ["r0", "r1"]
    assert [t for t in order if t.startswith("p")] == ["p0", "p1"]


def test_the_fair_order_continues_the_streak_the_desks_left_off() -> None:
    queue = [Waiting("r0", False), Waiting("p0", True), Waiting("p1", True)]

    fresh = [w.ticket_id for w in fair_order(queue, priority_streak=0, priority_per_regular=2)]
    after_two = [w.ticket_id for w in fair_order(queue, priority_streak=2, priority_per_regular=2)]

    assert fresh == ["p0", "p1", "r0"]
    assert after_two == ["r0", "p0", "p1"]


def test_more_desks_shorten_the_estimated_wait() -> None:
    assert estimated_wait(1, being_served=0, mean_seconds=300, desks=1) == 0
    assert estimated_wait(3, being_served=1, mean_seconds=300, desks=1) == 900
    assert estimated_wait(3, being_served=1, mean_seconds=300, desks=3) == 300
    assert estimated_wait(2, being_served=0, mean_seconds=300, desks=0) == 300
