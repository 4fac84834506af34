"""Scheduler: a session changed after it was put on the calendar (PATCH), per status."""

from datetime import timedelta
from typing import Any

import httpx
from nats.aio.client import Client as NatsClient

from botram_contracts.events import CloudEvent
from botram_runtime.clock import local_today
from helpers import FakeClock, assert_problem, fetch_events, session_issuer

SERVICES = ["dukcapil-kk", "dukcapil-ktp-cetak"]


async def session_events(nc: NatsClient, count: int) -> list[CloudEvent[Any]]:
    return await fetch_events(nc, "botram.session.>", count)


async def a_session(scheduler: httpx.AsyncClient, clock: FakeClock, **fields: object) -> str:
    body = {
        "level": "kecamatan",
        "kecamatan": "Sukatani",
        "date": local_today(clock).isoformat(),
        "services": SERVICES,
    } | fields
    response = await scheduler.post("/v1/sessions", json=body)
    assert response.status_code == 201, response.text
    session_id: str = response.json()["id"]
    return session_id


async def test_a_session_by_hand_takes_its_quotas_from_the_rules_file(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    kecamatan = await a_session(scheduler, clock)
    desa = await a_session(
        scheduler, clock, level="desa", kecamatan="Cikarang Selatan", desa="Ciantra"
    )

    # default.toml: 100 per kecamatan service but 150 KTP prints; 60 per desa service, 80 KTP
    assert (await scheduler.get(f"/v1/sessions/{kecamatan}")).json()["quotas"] == {
        "dukcapil-kk": 100,
        "dukcapil-ktp-cetak": 150,
    }
    assert (await scheduler.get(f"/v1/sessions/{desa}")).json()["quotas"] == {
        "dukcapil-kk": 60,
        "dukcapil-ktp-cetak": 80,
    }


async def test_a_scheduled_session_changes_anything_and_announces_what_changed(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = await a_session(scheduler, clock)

    response = await scheduler.patch(
        f"/v1/sessions/{session_id}",
        json={
            "services": ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"],
            "quotas": {"dukcapil-kk": 40},
            "venue": "Aula Desa Sukatani",
            "end": "15:00:00",
        },
    )

    assert response.status_code == 200, response.text
    session = response.json()
    assert session["services"] == ["dukcapil-kk", "bpjs-kesehatan-pendaftaran"]
    assert session["quotas"] == {"dukcapil-kk": 40, "bpjs-kesehatan-pendaftaran": 100}
    assert (session["venue"], session["end"], session["origin"]) == (
        "Aula Desa Sukatani",
        "15:00:00",
        "manual",
    )
    _, updated = await session_events(nc, 2)
    assert updated.type == "botram.session.updated.v1"
    assert updated.subject == "botram.session.updated.v1.kecamatan.sukatani"
    assert updated.data.changed == ["services", "quotas", "venue", "end"]
    assert updated.data.quotas == session["quotas"]
    assert str(updated.data.end) == "15:00:00"


async def test_a_change_that_changes_nothing_publishes_nothing(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = await a_session(scheduler, clock)

    same = await scheduler.patch(
        f"/v1/sessions/{session_id}", json={"quotas": {"dukcapil-kk": 100}}
    )
    changed = await scheduler.patch(
        f"/v1/sessions/{session_id}", json={"quotas": {"dukcapil-kk": 101}}
    )

    assert same.status_code == changed.status_code == 200
    # The stream's second event is the real change: the same values published nothing.
    _, updated = await session_events(nc, 2)
    assert updated.type == "botram.session.updated.v1"
    assert (updated.data.changed, updated.data.quotas["dukcapil-kk"]) == (["quotas"], 101)


async def test_an_opened_session_may_only_add_services_and_raise_quotas(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = await a_session(scheduler, clock)
    await scheduler.post(f"/v1/sessions/{session_id}/open")
    url = f"/v1/sessions/{session_id}"

    grown = await scheduler.patch(
        url,
        json={
            "services": [*SERVICES, "dinkes-cek-tekanan-darah"],
            "quotas": {"dukcapil-kk": 130},
        },
    )
    removed = await scheduler.patch(url, json={"services": ["dukcapil-kk"]})
    lowered = await scheduler.patch(url, json={"quotas": {"dukcapil-kk": 120}})
    moved = await scheduler.patch(url, json={"venue": "Lapangan", "start": "09:00"})

    assert grown.status_code == 200, grown.text
    assert grown.json()["quotas"] == {
        "dukcapil-kk": 130,
        "dukcapil-ktp-cetak": 150,
        "dinkes-cek-tekanan-darah": 100,
    }
    assert_problem(removed, 409, "opened-session-keeps-services")
    assert_problem(lowered, 409, "opened-session-quota-lowered")
    body = assert_problem(moved, 409, "opened-session-fixed")
    assert "venue" in body["detail"] and "start" in body["detail"]
    assert (await scheduler.get(url)).json()["quotas"] == grown.json()["quotas"]


async def test_an_ended_session_cannot_be_changed_and_bad_values_are_refused(
    scheduler: httpx.AsyncClient, clock: FakeClock
) -> None:
    ended = await a_session(scheduler, clock)
    await scheduler.post(f"/v1/sessions/{ended}/cancel", json={"reason": "Banjir"})
    other = await a_session(scheduler, clock)

    assert_problem(
        await scheduler.patch(f"/v1/sessions/{ended}", json={"quotas": {"dukcapil-kk": 200}}),
        409,
        "session-ended",
    )
    assert_problem(
        await scheduler.patch(f"/v1/sessions/{other}", json={"quotas": {"bapenda-pbb": 5}}),
        422,
        "quota-for-unknown-service",
    )
    assert_problem(
        await scheduler.patch(f"/v1/sessions/{other}", json={"services": ["no-such-service"]}),
        422,
        "unknown-service",
    )
    assert_problem(
        await scheduler.patch(f"/v1/sessions/{other}", json={"end": "07:00"}),
        422,
        "end-before-start",
    )
    assert_problem(
        await scheduler.patch(f"/v1/sessions/{other}", json={"quotas": {"dukcapil-kk": 0}}), 422
    )
    assert_problem(await scheduler.patch("/v1/sessions/nope", json={}), 404, "session-not-found")


async def test_an_operator_moves_an_opened_session_which_is_scheduled_again(
    scheduler: httpx.AsyncClient, nc: NatsClient, clock: FakeClock
) -> None:
    session_id = await a_session(scheduler, clock)
    await scheduler.post(f"/v1/sessions/{session_id}/open")
    later = (local_today(clock) + timedelta(days=7)).isoformat()
    move = {"date": later, "reason": "Listrik padam"}

    by_planner = await scheduler.post(
        f"/v1/sessions/{session_id}/reschedule",
        json=move,
        headers=session_issuer().headers("planner"),
    )
    by_operator = await scheduler.post(f"/v1/sessions/{session_id}/reschedule", json=move)

    assert_problem(by_planner, 403, "operator-moves-opened")
    assert by_operator.status_code == 200, by_operator.text
    assert (by_operator.json()["status"], by_operator.json()["date"]) == ("scheduled", later)
    *_, moved = await session_events(nc, 3)
    assert moved.type == "botram.session.rescheduled.v1"
    assert (moved.data.previous_date, moved.data.reason) == (local_today(clock), "Listrik padam")
