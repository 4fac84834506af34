"""The simulator's day plan and parameter checks (no system needed)."""

from datetime import date, datetime, time

import pytest
from typer.testing import CliRunner

from botram_cli.main import app
from botram_cli.simulate.plan import InvalidParameters, Parameters, make_plan, session_hours
from botram_contracts.reference import load_catalogue
from botram_registry.domain.nik import parse_nik
from botram_runtime.clock import JAKARTA

DAY = date(2024, 7, 6)


def plan(**overrides: object):  # type: ignore[no-untyped-def]
    catalogue = load_catalogue()
    return make_plan(Parameters(**overrides), list(catalogue.services), DAY)  # type: ignore[arg-type]


def test_the_same_seed_gives_the_same_day() -> None:
    assert plan(seed=7, citizens=50).citizens == plan(seed=7, citizens=50).citizens
    assert plan(seed=7, citizens=50).citizens != plan(seed=8, citizens=50).citizens


def test_every_simulated_citizen_has_a_valid_unique_nik() -> None:
    citizens = plan(citizens=400).citizens

    assert len({c.nik for c in citizens}) == 400
    for citizen in citizens:
        parse_nik(citizen.nik, today=DAY)  # raises on an invalid NIK


def test_arrivals_peak_in_the_morning_and_civil_registration_is_most_demanded() -> None:
    citizens = plan(citizens=1000).citizens
    per_hour = [sum(1 for c in citizens if int(c.arrival_seconds // 3600) == h) for h in range(7)]
    wanted = [code for c in citizens for code in c.services]
    dukcapil = sum(1 for code in wanted if code.startswith("dukcapil-"))

    assert max(per_hour) == per_hour[1] and per_hour[1] > per_hour[-1]
    assert dukcapil > len(wanted) / 3
    assert [c.arrival_seconds for c in citizens] == sorted(c.arrival_seconds for c in citizens)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"desks_per_agency": 0}, "desks per agency"),
        ({"citizens": 0}, "citizens"),
        ({"no_show_share": -0.1}, "no show share"),
        ({"follow_up_share": 1.5}, "follow up share"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidParameters, match=message):
        Parameters(**overrides).validate()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--desks", "0"], "desks per agency must be at least 1"),
        (["--kecamatan", "Muaragembong"], "Muara Gembong"),
        (["--speed", "-2"], "speed must be 0"),
    ],
)
def test_the_command_refuses_bad_parameters_before_touching_the_system(
    args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, ["simulate", *args])

    assert result.exit_code == 2
    assert message in " ".join(result.output.split()).replace("│", "").replace("  ", " ")


def test_a_share_of_citizens_is_pre_registered_without_changing_the_day() -> None:
    citizens = plan(citizens=1000, pre_registered_share=0.1).citizens
    without = plan(citizens=1000, pre_registered_share=0).citizens
    share = sum(c.pre_registered for c in citizens) / len(citizens)

    assert 0.07 < share < 0.13
    assert [(c.nik, c.arrival_seconds) for c in citizens] == [
        (c.nik, c.arrival_seconds) for c in without
    ]
    with pytest.raises(InvalidParameters):
        Parameters(pre_registered_share=1.5).validate()


@pytest.mark.parametrize(
    ("now", "hours"),
    [
        (time(9, 12, 40), (time(9, 12), time(12, 12))),
        (time(21, 30), (time(21, 30), time(23, 59))),  # after the fair's usual hours
        (time(23, 58, 30), (time(23, 57), time(23, 59))),
        (time(0, 0), (time(0, 0), time(3, 0))),
    ],
)
def test_a_new_simulated_session_runs_from_now_so_its_slots_are_open(
    now: time, hours: tuple[time, time]
) -> None:
    assert session_hours(datetime.combine(DAY, now, tzinfo=JAKARTA)) == hours
