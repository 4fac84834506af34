"""Scheduler rules engine: the shipped rotation, holidays and the rules file (pure, no I/O)."""

from datetime import date
from pathlib import Path

import holidays
import pytest

from botram_contracts.reference import load_catalogue, load_regions
from botram_contracts.vocabulary import Level
from botram_scheduler.domain.generation import desa_services
from botram_scheduler.domain.rotation import Policy, Rules, RulesError
from botram_scheduler.rules_file import DEFAULT_RULES_PATH, load_rules, parse_rules

REGIONS = load_regions()
CATALOGUE = load_catalogue()
SEED_JULY_2024 = [
    (date(2024, 7, 6), "kecamatan", "sukatani", None),
    (date(2024, 7, 9), "desa", "cikarang-selatan", "ciantra"),
    (date(2024, 7, 13), "kecamatan", "tarumajaya", None),
    (date(2024, 7, 20), "kecamatan", "muara-gembong", None),
    (date(2024, 7, 27), "kecamatan", "setu", None),
]


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(None, REGIONS, CATALOGUE)


def rules_text(**replacements: str) -> str:
    text = DEFAULT_RULES_PATH.read_text()
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_the_shipped_rules_reproduce_the_seeds_july_2024_sessions(rules: Rules) -> None:
    plan = rules.plan(date(2024, 7, 1), date(2024, 7, 31))

    found = {(s.date, s.level, s.kecamatan, s.desa) for s in plan.sessions}
    assert set(SEED_JULY_2024) <= found
    # Three Botram days a week from the first desa Tuesday: every Sat, Tue and Thu is taken.
    assert [s.date.strftime("%a") for s in plan.sessions if s.date >= date(2024, 7, 9)] == [
        "Tue", "Thu", "Sat", "Tue", "Thu", "Sat", "Tue", "Thu", "Sat", "Tue",
    ]  # fmt: skip
    assert plan.blocked == []
    [ciantra] = [s for s in plan.sessions if s.date == date(2024, 7, 9)]
    assert (ciantra.start.isoformat(), ciantra.venue) == ("08:00:00", "Kantor Desa Ciantra")


def test_the_desa_rotation_climbs_the_regency_list_from_ciantra(rules: Rules) -> None:
    listed = [(d.kecamatan_slug, d.slug) for d in REGIONS.all_desas()]
    at = listed.index(("cikarang-selatan", "ciantra"))

    desa = [s for s in rules.plan(date(2024, 7, 9), date(2024, 7, 18)).sessions if s.desa]

    assert [(s.kecamatan, s.desa) for s in desa] == [listed[at - i] for i in range(4)]


def test_one_full_cycle_visits_every_kecamatan_and_every_desa_exactly_once(rules: Rules) -> None:
    plan = rules.plan(date(2024, 7, 1), date(2026, 12, 31))

    kecamatan = [s.kecamatan for s in plan.sessions if s.level == "kecamatan"][:23]
    desa = [(s.kecamatan, s.desa) for s in plan.sessions if s.level == "desa"][:187]
    assert sorted(kecamatan) == sorted(k.slug for k in REGIONS.kecamatans)
    assert sorted(desa) == sorted((d.kecamatan_slug, d.slug) for d in REGIONS.all_desas())
    assert len(set(desa)) == 187 == len(REGIONS.all_desas())
    # ... and the next cycle starts over in the same order.
    again = [s.kecamatan for s in plan.sessions if s.level == "kecamatan"][23:46]
    assert again == kecamatan


def test_all_of_2025_avoids_public_holidays_and_cuti_bersama_and_reports_the_moves(
    rules: Rules,
) -> None:
    plan = rules.plan(date(2025, 1, 1), date(2025, 12, 31))

    public = holidays.country_holidays("ID", years=2025)
    cuti_bersama = {d for d in rules.extra_blocked if d.year == 2025}
    assert cuti_bersama  # the shipped file lists 2025's cuti bersama
    days = {s.date for s in plan.sessions}
    assert not days & set(public)
    assert not days & cuti_bersama
    rotation_days_off = {
        d for d in set(public) | cuti_bersama if d.weekday() in (1, 3, 5)
    }  # Tue, Thu, Sat
    assert {b.date for b in plan.blocked} == rotation_days_off
    for blocked in plan.blocked:
        assert blocked.action is Policy.MOVE and blocked.reason
        assert blocked.moved_to is not None and blocked.moved_to > blocked.date
        assert (
            blocked.moved_to.weekday()
            in (rules.kecamatan if blocked.level == "kecamatan" else rules.desa).weekdays
        )
        moved = [
            s for s in plan.sessions if s.date == blocked.moved_to and s.level == blocked.level
        ]
        assert (moved[0].kecamatan, moved[0].desa) == (blocked.kecamatan, blocked.desa)


def test_the_skip_policy_leaves_the_day_empty_and_the_stop_waits_for_the_next_cycle() -> None:
    rules = parse_rules(rules_text(**{'policy = "move"': 'policy = "skip"'}), REGIONS, CATALOGUE)

    plan = rules.plan(date(2024, 8, 10), date(2024, 8, 24))

    # Sat 17 Aug 2024 is Independence Day: Cabangbungin's turn is skipped, Cibarusah follows.
    [blocked] = plan.blocked
    assert (blocked.date, blocked.action, blocked.kecamatan) == (
        date(2024, 8, 17), Policy.SKIP, "cabangbungin",
    )  # fmt: skip
    assert blocked.moved_to is None and "Kemerdekaan" in blocked.reason
    saturdays = [(s.date, s.kecamatan) for s in plan.sessions if s.level == "kecamatan"]
    assert saturdays == [(date(2024, 8, 10), "bojongmangu"), (date(2024, 8, 24), "cibarusah")]


def test_an_override_takes_the_day_and_the_rotation_resumes_after_it() -> None:
    text = rules_text(**{'# "2025-10-11" = "Cikarang Pusat"': '"2024-07-13" = "Cikarang Pusat"'})
    rules = parse_rules(text, REGIONS, CATALOGUE)

    plan = rules.plan(date(2024, 7, 6), date(2024, 7, 20))

    saturdays = [(s.date, s.kecamatan) for s in plan.sessions if s.level == "kecamatan"]
    assert saturdays == [
        (date(2024, 7, 6), "sukatani"),
        (date(2024, 7, 13), "cikarang-pusat"),
        (date(2024, 7, 20), "tarumajaya"),
    ]


def test_a_blackout_date_from_the_rules_file_is_avoided_with_its_reason() -> None:
    text = rules_text(
        **{
            '# [[holidays.blackout]]\n# date = 2025-10-10\n# reason = "HUT Kabupaten Bekasi"': (
                '[[holidays.blackout]]\ndate = 2024-07-13\nreason = "Rapat paripurna DPRD"'
            )
        }
    )
    rules = parse_rules(text, REGIONS, CATALOGUE)

    plan = rules.plan(date(2024, 7, 6), date(2024, 7, 20))

    [blocked] = plan.blocked
    assert (blocked.reason, blocked.kecamatan, blocked.moved_to) == (
        "Rapat paripurna DPRD", "tarumajaya", date(2024, 7, 20),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('"Setu",', '"Setuu",', "Setu"),  # unknown kecamatan: suggestions
        ('"Tambun Utara",', '"Tambun Utara", "Setu",', "repeated: setu"),
        ('"Tambun Utara",', "", "missing: Tambun Utara"),
        ('desa = "Ciantra"', 'desa = "Sukatani"', "Sukatani"),  # not in Cikarang Selatan
        ('"dukcapil-akta-kematian",', '"no-such-service",', "no-such-service"),
        ('end = "13:00"', 'end = "07:00"', "must be after start"),
        ("first_date = 2024-07-06", "first_date = 2024-07-07", "not one of its weekdays"),
        ('policy = "move"', 'policy = "shuffle"', "policy"),
        ('"pmi-donor-darah" = 50', '"pmi-donor" = 50', "kecamatan.quotas: unknown service"),
        ('"dukcapil-ktp-cetak" = 80', '"dukcapil-ktp-cetak" = 0', "quotas"),
    ],
)
def test_a_rules_file_with_a_mistake_is_refused_with_what_is_wrong(
    old: str, new: str, message: str
) -> None:
    with pytest.raises(RulesError, match=message):
        parse_rules(rules_text(**{old: new}), REGIONS, CATALOGUE)


def test_each_level_has_its_default_quota_and_the_services_that_differ(rules: Rules) -> None:
    kecamatan, desa = rules.quotas(Level.KECAMATAN), rules.quotas(Level.DESA)

    assert (kecamatan.of("dukcapil-kk"), kecamatan.of("dukcapil-ktp-cetak")) == (100, 150)
    assert (desa.of("dukcapil-kk"), desa.of("dukcapil-ktp-cetak")) == (60, 80)


def test_a_missing_rules_file_is_refused_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read the rules file"):
        load_rules(tmp_path / "nope.toml", REGIONS, CATALOGUE)


def test_the_desa_service_mix_is_the_top_eligible_services_topped_up_by_the_defaults() -> None:
    eligible = ["a", "b", "c", "d"]

    assert desa_services(None, eligible, ["a", "b", "x"], 2) == ["a", "b"]
    assert desa_services(["x", "d", "c"], eligible, ["a", "b"], 3) == ["d", "c", "a"]
