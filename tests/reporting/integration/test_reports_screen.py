"""The report officer's screen (`/reports`) and the sessions of a period it lists
(`GET /v1/reports/sessions`), on a real nats-server: the page is a public sign-in shell
without figures; the list is the summary per session, with each session's place and date."""

from typing import Any

from nats.aio.client import Client as NatsClient

from botram_reporting.main import create_app
from botram_reporting.report_files import session_report_style_hash
from botram_reporting.settings import Settings
from helpers import assert_problem, eventually, publish_event, running, session_issuer
from report_events import DAY, SESSION_ID, report_day

SESSIONS = "/v1/reports/sessions"
SUMMARY = "/v1/reports/summary"


async def test_the_reports_page_is_a_public_sign_in_shell_in_bahasa_indonesia(
    settings: Settings,
) -> None:
    async with running(create_app(settings), headers={}) as client:
        page = await client.get("/reports")
        script = await client.get("/static/reports.js")

    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="id">' in html
    assert "<h1>Laporan Botram</h1>" in html
    assert 'data-signin-roles="viewer operator planner"' in html
    assert "Silakan masuk" in html and "Halaman ini untuk" in html
    assert 'id="botram-signin-config"' in html
    for label in ("Dari tanggal", "Sampai tanggal", "Tingkat", "Kecamatan", "Instansi"):
        assert f">{label}</label>" in html
    assert "/static/reports.js?v=" in html and "/static/signin.js?v=" in html
    # The printable report opens from a blob URL under this page's policy: its inline
    # stylesheet (and nothing else inline) is allowed by hash; scripts only from the service.
    policy = page.headers["content-security-policy"]
    assert f"style-src 'self' '{session_report_style_hash()}'" in policy
    assert "script-src 'self';" in policy
    assert script.status_code == 200
    assert "Authorization" in script.text


async def test_the_sessions_of_a_period_are_the_summary_per_session_with_their_places(
    settings: Settings, nc: NatsClient
) -> None:
    viewer = session_issuer().headers("viewer")
    async with running(create_app(settings), headers=viewer) as reporting:
        for producer, data in report_day():
            await publish_event(nc, data, producer)

        async def reported() -> dict[str, Any] | None:
            body: dict[str, Any] = (await reporting.get(SUMMARY)).json()
            return body if body["totals"]["follow_ups"] == 1 else None

        summary = await eventually(reported, within=15)
        in_july = await reporting.get(SESSIONS, params={"from": "2024-07-01", "to": "2024-07-31"})
        in_august = await reporting.get(SESSIONS, params={"from": "2024-08-01"})
        of_bpjs = await reporting.get(SESSIONS, params={"agency": "bpjs-kesehatan"})
        swapped = await reporting.get(SESSIONS, params={"from": "2024-07-31", "to": "2024-07-01"})
        anonymous = await reporting.get(SESSIONS, headers={"Authorization": ""})

    assert in_july.status_code == 200, in_july.text
    body = in_july.json()
    assert body["filters"] == {
        "from": "2024-07-01",
        "to": "2024-07-31",
        "level": None,
        "kecamatan": None,
        "agency": None,
    }
    (line,) = body["sessions"]
    assert {k: line[k] for k in ("session_id", "level", "kecamatan", "date", "status")} == {
        "session_id": SESSION_ID,
        "level": "kecamatan",
        "kecamatan": "sukatani",
        "date": DAY.isoformat(),
        "status": "closed",
    }
    assert line["kecamatan_name"] == "Sukatani"
    assert line["totals"] == summary["totals"]
    assert in_august.json()["sessions"] == []
    (bpjs,) = of_bpjs.json()["sessions"]
    assert (bpjs["totals"]["tickets_issued"], bpjs["totals"]["served"]) == (1, 1)
    assert_problem(swapped, 422, "invalid-period")
    assert anonymous.status_code == 401


async def test_the_sessions_list_is_only_for_readers(settings: Settings) -> None:
    async with running(create_app(settings), headers={}) as client:
        desk = await client.get(SESSIONS, headers=session_issuer().headers("desk"))
        planner = await client.get(SESSIONS, headers=session_issuer().headers("planner"))

    assert desk.status_code == 403
    assert planner.status_code == 200
    assert planner.json()["sessions"] == []
