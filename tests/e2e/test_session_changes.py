"""A session changed on the day, end to end through the processes `botram up` starts, over
HTTP on a real bus: a quota raised while the session is open admits more check-ins; the
session cancelled in an emergency tells each waiting citizen with a phone once, with the
reason and the next session nearby; the session report counts them per service; another
session moved while open tells the citizen checked in there."""

from datetime import timedelta

import httpx
import pytest

from botram_runtime.clock import local_today, system_clock
from helpers import System, eventually

pytestmark = pytest.mark.e2e

KK = "dukcapil-kk"
MONTHS = "Januari Februari Maret April Mei Juni Juli Agustus September Oktober November Desember"


def nik(serial: int) -> str:
    return f"3216050101900{serial:03d}"  # born 1 January 1990, resident of Kabupaten Bekasi


def tanggal(day: object) -> str:
    return f"{day.day} {MONTHS.split()[day.month - 1]} {day.year}"  # type: ignore[attr-defined]


def messages_of(system: System, kind: str) -> list[str]:
    """The notifier's log provider's lines for messages of `kind` (the text, never a phone)."""
    return [line for line in list(system.output) if "citizen_message" in line and kind in line]


async def test_a_quota_raised_an_emergency_cancellation_and_a_session_moved_while_open(
    system: System,
) -> None:
    urls = system.urls
    scheduler, registry = urls["scheduler"], urls["registry"]
    # Tomorrow's session, opened by hand today: the clock of `botram up` leaves it alone.
    day = local_today(system_clock) + timedelta(days=1)
    async with httpx.AsyncClient(timeout=10, headers=system.headers("operator")) as http:

        async def session(kecamatan: str, on: object, venue: str | None = None) -> str:
            body = {"level": "kecamatan", "kecamatan": kecamatan, "date": str(on)}
            created = await http.post(
                f"{scheduler}/v1/sessions", json=body | {"services": [KK], "venue": venue}
            )
            assert created.status_code == 201, created.text
            session_id: str = created.json()["id"]
            return session_id

        flooded = await session("Setu", day)
        await session("Sukatani", day + timedelta(days=1))  # sooner, but another kecamatan
        nearby = day + timedelta(days=3)
        await session("Setu", nearby, venue="Kantor Kecamatan Setu")
        small = await http.patch(f"{scheduler}/v1/sessions/{flooded}", json={"quotas": {KK: 2}})
        assert small.json()["quotas"] == {KK: 2}
        await http.post(f"{scheduler}/v1/sessions/{flooded}/open")

        async def check_in(serial: int, phone: str | None) -> httpx.Response:
            body: dict[str, object] = {"nik": nik(serial), "name": "Warga", "services": [KK]}
            if phone:
                body["phone"] = phone
            return await http.post(f"{registry}/v1/sessions/{flooded}/check-ins", json=body)

        async def checked_in(serial: int, phone: str | None = None) -> httpx.Response | None:
            response = await check_in(serial, phone)
            return response if response.status_code == 201 else None

        await eventually(lambda: checked_in(1, "081200000001"), within=20, interval=0.2)
        await eventually(lambda: checked_in(2, "081200000002"), within=20, interval=0.2)
        full = await check_in(3, "081200000003")
        assert full.status_code == 409 and full.json()["type"].endswith("/quota-full")

        raised = await http.patch(f"{scheduler}/v1/sessions/{flooded}", json={"quotas": {KK: 4}})
        assert raised.status_code == 200, raised.text
        await eventually(lambda: checked_in(3, "081200000003"), within=20, interval=0.2)
        await eventually(lambda: checked_in(4), within=20, interval=0.2)  # no phone
        assert (await check_in(5, None)).status_code == 409  # the new quota holds too

        contacts = (
            'consumer="notifier-private",result="ok",type="botram.citizen.contact_shared.v1"} 3.0'
        )

        async def contacts_seen() -> bool:
            return contacts in (await http.get(f"{urls['notifier']}/metrics")).text

        await eventually(contacts_seen, within=20, interval=0.2)
        cancelled = await http.post(
            f"{scheduler}/v1/sessions/{flooded}/cancel", json={"reason": "banjir"}
        )
        assert cancelled.json()["status"] == "cancelled"
        await eventually(lambda: len(messages_of(system, "session_cancelled")) >= 3, within=20)

        async def reported() -> dict[str, object] | None:
            report = await http.get(f"{urls['reporting']}/v1/reports/sessions/{flooded}")
            body = report.json() if report.status_code == 200 else {}
            return body if body.get("totals", {}).get("cancelled") == 4 else None

        report = await eventually(reported, within=20, interval=0.3)

        # A power cut at another session: the operator moves it while open to next week; the
        # citizen checked in with a phone is told, and check-ins wait until it opens again.
        cut = await session("Cibitung", day)
        await http.post(f"{scheduler}/v1/sessions/{cut}/open")

        async def at_cut() -> httpx.Response | None:
            body = {"nik": nik(9), "name": "Warga", "services": [KK], "phone": "081200000009"}
            response = await http.post(f"{registry}/v1/sessions/{cut}/check-ins", json=body)
            return response if response.status_code == 201 else None

        await eventually(at_cut, within=20, interval=0.2)
        contacts = contacts.replace("} 3.0", "} 4.0")
        await eventually(contacts_seen, within=20, interval=0.2)
        week_later = day + timedelta(days=7)
        moved = await http.post(
            f"{scheduler}/v1/sessions/{cut}/reschedule",
            json={"date": str(week_later), "reason": "listrik padam"},
        )
        assert moved.json()["status"] == "scheduled"
        await eventually(lambda: messages_of(system, "session_moved"), within=20)

        async def not_open() -> bool:
            body = {"nik": nik(10), "name": "Warga", "services": [KK]}
            response = await http.post(f"{registry}/v1/sessions/{cut}/check-ins", json=body)
            return response.status_code == 409

        await eventually(not_open, within=20, interval=0.2)

    [told_moved] = messages_of(system, "session_moved")
    assert f"dari {tanggal(day)} ke {tanggal(week_later)}. Alasan: listrik padam." in told_moved
    told = messages_of(system, "session_cancelled")
    assert len(told) == 3  # exactly one each for the three phones; nobody for the fourth
    expected = (
        f"Alasan: banjir. Botram terdekat berikutnya: Setu, {tanggal(nearby)} pukul 08.00 "
        "di Kantor Kecamatan Setu."
    )
    assert all(expected in line for line in told), told
    [kk] = report["groups"]["service"]  # type: ignore[index]
    assert (kk["key"], kk["tickets_issued"], kk["cancelled"], kk["waiting"]) == (KK, 4, 4, 0)
