"""Botram runs for any regency: the same fair, end to end through the processes `botram up`
starts, once with Kabupaten Bekasi's settings (the defaults) and once with Kabupaten
Karawang's. Every text a citizen, a desk, a calendar app or a report reader gets names the
configured regency and never the other one: the SMS messages (the notifier's log provider),
the pages, the calendar, the reports (JSON and CSV)."""

import ast
from dataclasses import dataclass

import httpx
import pytest

from botram_runtime.clock import local_today, system_clock
from helpers import System, eventually

pytestmark = pytest.mark.e2e

KK = "dukcapil-kk"


@dataclass(frozen=True)
class Regency:
    env: dict[str, str]
    name: str
    short: str  # as SMS messages and page headers say it
    code: str  # NIKs of its residents start with it
    kecamatan: str
    kecamatan_slug: str
    domain: str  # calendar UIDs end with it
    other: str  # the word no text may contain

    def nik(self, serial: int) -> str:
        return f"{self.code}050101900{serial:03d}"  # born 1 January 1990, a resident


BEKASI = Regency(
    env={},
    name="Kabupaten Bekasi",
    short="Kab. Bekasi",
    code="3216",
    kecamatan="Sukatani",
    kecamatan_slug="sukatani",
    domain="botram.bekasikab.go.id",
    other="karawang",
)
KARAWANG = Regency(
    env={"BOTRAM_REGENCY_NAME": "Kabupaten Karawang", "BOTRAM_REGENCY_CODE": "32.15"},
    name="Kabupaten Karawang",
    short="Kab. Karawang",
    code="3215",
    kecamatan="Telukjambe Timur",
    kecamatan_slug="telukjambe-timur",
    domain="botram.karawangkab.go.id",
    other="bekasi",
)
REGENCIES = [pytest.param(BEKASI, id="bekasi"), pytest.param(KARAWANG, id="karawang")]


@pytest.fixture
def regency(request: pytest.FixtureRequest) -> Regency:
    value: Regency = request.param
    return value


@pytest.fixture
def system_env(regency: Regency) -> dict[str, str]:
    return regency.env


def sms_texts(system: System) -> list[str]:
    """What the notifier's log provider sent (the text, never a phone; logged as its repr)."""
    lines = [line for line in list(system.output) if "citizen_message " in line]
    return [ast.literal_eval(line.split(" text=", 1)[1].strip()) for line in lines]


@pytest.mark.parametrize("regency", REGENCIES, indirect=True)
async def test_every_text_names_the_configured_regency(system: System, regency: Regency) -> None:
    urls = system.urls
    desk = system.headers("desk", agency="dukcapil")
    async with httpx.AsyncClient(timeout=10, headers=system.headers("operator")) as http:
        today = local_today(system_clock).isoformat()
        created = await http.post(
            f"{urls['scheduler']}/v1/sessions",
            json={"level": "kecamatan", "kecamatan": regency.kecamatan, "date": today},
        )
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        assert created.json()["kecamatan"] == regency.kecamatan_slug
        await http.post(f"{urls['scheduler']}/v1/sessions/{session_id}/open")

        tickets = []
        for serial in (1, 2):
            body = {
                "nik": regency.nik(serial),
                "name": "Warga",
                "phone": f"0812000{serial:05d}",
                "services": [KK],
            }

            async def check_in(body: dict[str, object] = body) -> httpx.Response | None:
                response = await http.post(
                    f"{urls['registry']}/v1/sessions/{session_id}/check-ins", json=body
                )
                return response if response.status_code == 201 else None

            tickets += (await eventually(check_in, within=20, interval=0.2)).json()["tickets"]
        called = await http.post(
            f"{urls['registry']}/v1/sessions/{session_id}/services/{KK}/call-next",
            json={"desk": "meja-1"},
            headers=desk,
        )
        assert called.json()["ticket_id"] == tickets[0]["ticket_id"]
        await http.post(
            f"{urls['registry']}/v1/tickets/{tickets[0]['ticket_id']}/complete",
            json={"outcome": "served"},
            headers=desk,
        )
        # Both numbers told before the day ends: then the close tells the one still waiting.
        await eventually(lambda: len(sms_texts(system)) >= 2, within=20, interval=0.2)
        closed = await http.post(f"{urls['scheduler']}/v1/sessions/{session_id}/close")
        assert closed.json()["status"] == "closed"
        await eventually(
            lambda: any("sudah ditutup" in text for text in sms_texts(system)), within=20
        )

        async def reported() -> httpx.Response | None:
            report = await http.get(f"{urls['reporting']}/v1/reports/sessions/{session_id}")
            totals = report.json().get("totals", {}) if report.status_code == 200 else {}
            return report if (totals.get("served"), totals.get("expired")) == (1, 1) else None

        report = await eventually(reported, within=20, interval=0.3)
        summary = await http.get(f"{urls['reporting']}/v1/reports/summary")
        summary_csv = await http.get(f"{urls['reporting']}/v1/reports/summary?format=csv")
        calendar = await http.get(f"{urls['scheduler']}/v1/calendar.ics")
        month = await http.get(f"{urls['scheduler']}/planner/month")
        pages = {
            path: await http.get(urls[service] + path)
            for service, path in (
                ("scheduler", "/planner"),
                ("registry", "/front-desk"),
                ("registry", "/desk"),
                ("registry", f"/display/{session_id}"),
                ("registry", "/t/" + tickets[1]["status_url"].rsplit("/t/", 1)[1]),
            )
        }
        slip = await http.get(tickets[1]["status_url"] + "/slip")

    texts = sms_texts(system)
    assert len(texts) >= 3 and all(t.startswith(f"Botram {regency.short}: ") for t in texts)
    assert report.json()["regency"] == summary.json()["regency"] == regency.name
    assert report.json()["kecamatan"] == regency.kecamatan_slug
    assert report.json()["totals"]["residents"] == 2  # the configured code makes residents
    assert summary.json()["groups"]["kecamatan"][0]["key"] == regency.kecamatan_slug
    assert f"{session_id}@{regency.domain}" in calendar.text.replace("\r\n ", "")
    assert f"X-WR-CALNAME:Botram {regency.name}" in calendar.text
    for path, page in pages.items():
        assert page.status_code == 200, path
        assert f"· Botram {regency.short}</title>" in page.text, path
    assert f"Botram {regency.short} · Dukcapil" in slip.text  # the printed ticket
    documents = {
        "sms": "\n".join(texts),
        "report": report.text,
        "summary": summary.text,
        "summary.csv": summary_csv.text,
        "calendar": calendar.text,
        "planner month": month.text,
        "slip": slip.text,
        **{path: page.text for path, page in pages.items()},
    }
    for what, text in documents.items():
        assert regency.other not in text.lower(), what
