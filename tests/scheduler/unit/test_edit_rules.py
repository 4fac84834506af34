"""What an update may change in a session, by its status: pure rules."""

from datetime import time

import pytest

from botram_contracts.reference import Catalogue
from botram_contracts.vocabulary import Level, SessionStatus
from botram_runtime.actors import Actor, Role
from botram_runtime.errors import Conflict, Invalid
from botram_scheduler.domain.edits import SessionFields, UpdateSession, updated_fields
from botram_scheduler.domain.sessions import Quotas

PLANNER = Actor(sub="planner-1", roles=frozenset({Role.PLANNER}))
NOW = SessionFields(
    services=("dukcapil-kk", "dukcapil-ktp-cetak"),
    quotas={"dukcapil-kk": 100, "dukcapil-ktp-cetak": 150},
    venue="Kantor Kecamatan Sukatani",
    start=time(8),
    end=time(14),
)
RULE = Quotas(60, {"dinkes-cek-tekanan-darah": 30})


def update(catalogue: Catalogue, status: SessionStatus, **changes: object) -> SessionFields:
    command = UpdateSession(PLANNER, "s-1", **changes)  # type: ignore[arg-type]
    return updated_fields(status, Level.KECAMATAN, NOW, command, catalogue, RULE)


def test_an_added_service_gets_the_rules_quota_and_a_removed_one_loses_its_own(
    catalogue: Catalogue,
) -> None:
    after = update(
        catalogue,
        SessionStatus.SCHEDULED,
        services=["dukcapil-kk", "dinkes-cek-tekanan-darah", "bapenda-pbb"],
    )

    assert after.quotas == {"dukcapil-kk": 100, "dinkes-cek-tekanan-darah": 30, "bapenda-pbb": 60}
    assert after.changed_from(NOW) == ["services", "quotas"]


def test_quotas_name_only_the_services_they_change(catalogue: Catalogue) -> None:
    after = update(catalogue, SessionStatus.SCHEDULED, quotas={"dukcapil-kk": 20})

    assert after.quotas == {"dukcapil-kk": 20, "dukcapil-ktp-cetak": 150}
    assert after.changed_from(NOW) == ["quotas"]


def test_a_scheduled_session_moves_its_venue_and_hours(catalogue: Catalogue) -> None:
    after = update(catalogue, SessionStatus.SCHEDULED, venue="Aula", start=time(9))

    assert (after.venue, after.start, after.end) == ("Aula", time(9), time(14))
    assert after.changed_from(NOW) == ["venue", "start"]


def test_an_opened_session_grows_only(catalogue: Catalogue) -> None:
    grown = update(
        catalogue,
        SessionStatus.OPENED,
        services=[*NOW.services, "bapenda-pbb"],
        quotas={"dukcapil-kk": 101},
    )

    assert grown.quotas == {"dukcapil-kk": 101, "dukcapil-ktp-cetak": 150, "bapenda-pbb": 60}
    with pytest.raises(Conflict) as removed:
        update(catalogue, SessionStatus.OPENED, services=["dukcapil-kk"])
    assert removed.value.code == "opened-session-keeps-services"
    with pytest.raises(Conflict) as lowered:
        update(catalogue, SessionStatus.OPENED, quotas={"dukcapil-ktp-cetak": 149})
    assert lowered.value.code == "opened-session-quota-lowered"
    with pytest.raises(Conflict) as fixed:
        update(catalogue, SessionStatus.OPENED, end=time(15))
    assert fixed.value.code == "opened-session-fixed"
    # The same venue or hours again is no change at all: allowed.
    assert update(catalogue, SessionStatus.OPENED, venue=NOW.venue, end=time(14)) == NOW


@pytest.mark.parametrize("status", [SessionStatus.CLOSED, SessionStatus.CANCELLED])
def test_an_ended_session_is_history(catalogue: Catalogue, status: SessionStatus) -> None:
    with pytest.raises(Conflict) as error:
        update(catalogue, status, quotas={"dukcapil-kk": 200})

    assert error.value.code == "session-ended"


def test_values_that_make_no_session_are_refused(catalogue: Catalogue) -> None:
    with pytest.raises(Invalid) as hours:
        update(catalogue, SessionStatus.SCHEDULED, start=time(15))
    with pytest.raises(Invalid) as quota:
        update(catalogue, SessionStatus.SCHEDULED, quotas={"bapenda-pbb": 5})

    assert hours.value.code == "end-before-start"
    assert quota.value.code == "quota-for-unknown-service"
