"""The NIK: validation rule by rule, what may be derived from it, the pseudonym."""

from datetime import date

import pytest

from botram_registry.domain.nik import InvalidNik, age_band, age_on, mask_nik, parse_nik, pseudonym

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


def test_a_broken_rule_is_answered_as_422_with_the_rule_in_its_code() -> None:
    with pytest.raises(InvalidNik) as error:
        parse_nik("3216054507900000", today=TODAY)

    assert (error.value.status, error.value.code) == (422, "invalid-nik-serial")


def test_a_birth_date_in_the_future_is_refused() -> None:
    with pytest.raises(InvalidNik) as error:
        parse_nik("3216050112240001", today=TODAY)  # 1 December 2024

    assert error.value.rule == "birth-date"


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
