"""The JSON the registry's screens use: a NIK checked as typed, the open sessions with quota
left, a ticket's status link and its public status, and the public display's board."""

import re
from collections.abc import Awaitable, Callable

import httpx

from botram_registry.deps import Deps
from botram_registry.usecases import display
from helpers import assert_problem

Citizen = Callable[..., dict[str, object]]
KnownSession = Callable[[httpx.AsyncClient, str, str], Awaitable[None]]
AnnounceSession = Callable[..., Awaitable[None]]
DESK = {"desk": "Loket 2"}


async def test_a_nik_is_checked_with_the_check_ins_rules_and_its_rule_said_in_words(
    registry: httpx.AsyncClient,
) -> None:
    valid = await registry.post("/v1/nik-checks", json={"nik": "3216050101900001"})
    born_in_month_13 = await registry.post("/v1/nik-checks", json={"nik": "3216050113900001"})
    short = await registry.post("/v1/nik-checks", json={"nik": "3216"})

    assert valid.json() == {"valid": True, "rule": None, "reason": None}
    assert born_in_month_13.json() == {
        "valid": False,
        "rule": "birth-date",
        "reason": "Angka ke-7 sampai ke-12 NIK bukan tanggal lahir yang benar.",
    }
    assert short.json()["reason"] == "NIK harus terdiri dari tepat 16 angka."
    assert "3216" not in short.text


async def test_open_sessions_offer_each_service_with_who_waits_and_the_quota_left(
    registry: httpx.AsyncClient,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session("s-closed", open_it=False)
    await announce_session(quotas={"dukcapil-kk": 5})
    await known_session(registry, "s-1", "opened")
    await registry.post("/v1/sessions/s-1/check-ins", json=citizen())

    response = await registry.get("/v1/open-sessions", headers={"Authorization": ""})

    [session] = response.json()
    assert session["session_id"] == "s-1" and session["kecamatan"] == "sukatani"
    by_code = {s["code"]: s for s in session["services"]}
    assert by_code["dukcapil-kk"] | {"name": "…"} == {
        "code": "dukcapil-kk",
        "name": "…",
        "agency": "dukcapil",
        "agency_label": "Dukcapil",
        "waiting": 1,
        "quota_left": 4,
    }
    assert by_code["bpjs-kesehatan-pendaftaran"]["quota_left"] is None
    assert by_code["bpjs-kesehatan-pendaftaran"]["agency_label"] == "BPJS Kesehatan"


async def test_a_ticket_is_followed_by_its_status_link_and_shows_the_number_only(
    registry: httpx.AsyncClient,
    deps: Deps,
    announce_session: AnnounceSession,
    known_session: KnownSession,
    citizen: Citizen,
) -> None:
    await announce_session()
    await known_session(registry, "s-1", "opened")
    answer = (await registry.post("/v1/sessions/s-1/check-ins", json=citizen())).json()
    kk = answer["tickets"][0]
    match = re.fullmatch(r"http://service/t/([A-Za-z0-9_-]{22})", kk["status_url"])
    assert match, kk["status_url"]
    code = match[1]
    other_codes = {t["status_url"] for t in answer["tickets"]}
    assert len(other_codes) == len(answer["tickets"])  # a code per ticket

    waiting = await registry.get(f"/v1/ticket-status/{code}", headers={"Authorization": ""})
    assert waiting.json() == {
        "number": kk["number"],
        "service_name": waiting.json()["service_name"],
        "agency_label": "Dukcapil",
        "status": "waiting",
        "session_status": "opened",
        "position": 1,
        "estimated_wait_seconds": 0.0,
        "desk": None,
        "follow_ups": [],
        "survey": None,
    }
    called = await registry.post("/v1/sessions/s-1/services/dukcapil-kk/call-next", json=DESK)
    assert called.status_code == 200, called.text
    now = (await registry.get(f"/v1/ticket-status/{code}")).json()
    assert (now["status"], now["desk"], now["position"]) == ("called", "Loket 2", None)
    assert "Siti" not in str(now) and kk["ticket_id"] not in str(now)

    assert_problem(await registry.get("/v1/ticket-status/not-a-code"), 404, "ticket-not-found")
    page = await registry.get(f"/t/{code}")
    assert page.status_code == 200 and "dipanggil ke Loket 2" in page.text
    assert "Siti" not in page.text and "3216" not in page.text
    slip = await registry.get(f"/t/{code}/slip")
    assert kk["number"] in slip.text and "<svg" in slip.text and f"/t/{code}" in slip.text

    board = await display.display_snapshot(deps, "s-1")
    assert [(c.number, c.desk) for c in board.calls] == [(kk["number"], "Loket 2")]
    waiting_by_agency = {a.agency_label: a.waiting for a in board.agencies}
    assert waiting_by_agency == {"Dukcapil": 0, "BPJS Kesehatan": 1}
