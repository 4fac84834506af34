"""`botram simulate`: a realistic Botram day against the running system, then a comparison
of what the simulator did with what reporting counted."""

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from botram_cli.simulate.credentials import Credentials
from botram_cli.simulate.driver import DayDriver, Tally
from botram_cli.simulate.plan import (
    InvalidParameters,
    Parameters,
    make_plan,
    offered_services,
    session_hours,
)
from botram_contracts.reference import UnknownRegionError, load_catalogue, load_regions
from botram_runtime.clock import JAKARTA, local_today, system_clock
from botram_runtime.settings import ServiceSettings

console = Console(highlight=False)
REPORT_FIELDS = ("tickets", "served", "referred", "rejected", "no_shows", "follow_ups")
WAIT_SECONDS = 30.0


def simulate(
    kecamatan: Annotated[str, typer.Option(help="Kecamatan of a new session")] = "Sukatani",
    desa: Annotated[str | None, typer.Option(help="Desa of a new Botram Desa session")] = None,
    session_id: Annotated[str | None, typer.Option(help="Use this opened session instead")] = None,
    citizens: Annotated[int, typer.Option(help="Citizens who come")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same day")] = 1,
    desks: Annotated[int, typer.Option(help="Desks per agency")] = 2,
    no_show: Annotated[float, typer.Option(help="Share of called tickets nobody answers")] = 0.05,
    priority: Annotated[float, typer.Option(help="Share of priority citizens")] = 0.10,
    pre_registered: Annotated[
        float, typer.Option(help="Share of citizens registered ahead (checked in by QR code)")
    ] = 0.10,
    follow_up: Annotated[
        float, typer.Option(help="Share of served or referred tickets later reported ready")
    ] = 0.3,
    speed: Annotated[float, typer.Option(help="Times real time; 0 = as fast as possible")] = 0.0,
    close: Annotated[bool, typer.Option(help="Close the session at the end")] = False,
    scheduler_url: Annotated[
        str, typer.Option(envvar="BOTRAM_SCHEDULER_URL")
    ] = "http://127.0.0.1:8001",
    registry_url: Annotated[
        str, typer.Option(envvar="BOTRAM_REGISTRY_URL")
    ] = "http://127.0.0.1:8002",
    reporting_url: Annotated[
        str, typer.Option(envvar="BOTRAM_REPORTING_URL")
    ] = "http://127.0.0.1:8004",
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the summary as one JSON line")
    ] = False,
    var_dir: Annotated[
        Path, typer.Option(help="Where `botram up` keeps its state (its token issuer's key)")
    ] = Path("var"),
) -> None:
    """Simulate a Botram day (arrivals, desks, no-shows) through the real HTTP API."""
    # The regency as the services see it (BOTRAM_REGENCY_NAME, BOTRAM_REGENCY_CODE...).
    regency = ServiceSettings()
    params = Parameters(
        regency_code=regency.regency_code,
        citizens=citizens,
        seed=seed,
        desks_per_agency=desks,
        no_show_share=no_show,
        priority_share=priority,
        pre_registered_share=pre_registered,
        follow_up_share=follow_up,
    )
    try:
        params.validate()
    except InvalidParameters as error:
        raise typer.BadParameter(str(error)) from error
    if speed < 0:
        raise typer.BadParameter(f"speed must be 0 (as fast as possible) or positive (got {speed})")
    if session_id is None:
        try:
            regions = load_regions(regency.province, regency.regency)
            kecamatan = regions.kecamatan(kecamatan).slug
            desa = regions.desa(kecamatan, desa).slug if desa else None
        except UnknownRegionError as error:
            raise typer.BadParameter(str(error)) from error
    urls = {"scheduler": scheduler_url, "registry": registry_url, "reporting": reporting_url}
    credentials = Credentials(var_dir / "auth")
    summary = asyncio.run(
        _run(params, urls, credentials, (kecamatan, desa), session_id, speed, close, regency)
    )
    if json_output:
        print(json.dumps(summary, sort_keys=True))
    if not summary["agrees"]:
        raise typer.Exit(1)


async def _run(
    params: Parameters,
    urls: dict[str, str],
    credentials: Credentials,
    place: tuple[str, str | None],
    session_id: str | None,
    speed: float,
    close: bool,
    regency: ServiceSettings,
) -> dict[str, Any]:
    kecamatan, desa = place
    catalogue = load_catalogue(regency=regency.regency)
    async with httpx.AsyncClient(timeout=30, headers=credentials.staff()) as client:
        if session_id is None:
            session_id = await _open_new_session(client, urls, kecamatan, desa)
        queue = await _wait_for(
            client, f"{urls['registry']}/v1/sessions/{session_id}/queue", "opened"
        )
        codes = [s["service"] for s in queue["services"]]
        plan = make_plan(params, offered_services(catalogue, codes), local_today(system_clock))
        console.print(
            f"Session [bold]{session_id}[/]: {len(plan.citizens)} citizens, "
            f"{len(codes)} services, {params.desks_per_agency} desks per agency, seed {params.seed}"
        )
        registry = urls["registry"]
        console.print(
            f"  watch it: the display {registry}/display/{session_id} · front desk "
            f"{registry}/front-desk · desks {registry}/desk (sign in: botram token --link)"
        )
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task("check-ins", total=len(plan.citizens))

            def on_progress(tally: Tally) -> None:
                served = sum(c["served"] for c in tally.outcomes.values())
                progress.update(
                    task,
                    completed=tally.checkins + sum(tally.refused.values()),
                    description=f"check-ins · served {served} · requests {tally.requests}",
                )

            driver = DayDriver(
                client, urls["registry"], session_id, plan, params, catalogue,
                speed=speed, on_progress=on_progress, desk_headers=credentials.desk,
            )  # fmt: skip
            tally = await driver.run()
        if close:
            await client.post(f"{urls['scheduler']}/v1/sessions/{session_id}/close")
        # Documents ready later (after the close, with --close: the phones kept for it).
        await driver.follow_up()
        checkins, theirs = await _reporting_report(client, urls["reporting"], session_id, tally)
        survey = survey_figures(tally)
        their_survey = await _reporting_ikm(client, urls["reporting"], session_id, survey)
    mine = per_service(tally)
    agrees = mine == theirs and checkins == tally.checkins and survey == their_survey
    _print_summary(tally, mine, theirs, agrees)
    console.print(
        f"survey: {survey['responses']} answers, IKM {survey['ikm']} "
        f"(reporting: {their_survey['responses']} answers, IKM {their_survey['ikm']})"
    )
    return {
        "survey": survey,
        "session_id": session_id,
        "checkins": tally.checkins,
        "pre_registrations": tally.pre_registrations,
        "checked_in_by_code": tally.checked_in_by_code,
        "requests": tally.requests,
        "refused": dict(tally.refused),
        "services": mine,
        "agrees": agrees,
    }


def per_service(tally: Tally) -> dict[str, dict[str, int]]:
    """The simulator's own counts, in the shape of reporting's session report."""
    codes = set(tally.tickets) | set(tally.outcomes) | set(tally.no_shows) | set(tally.follow_ups)
    return {
        code: {
            "tickets": tally.tickets[code],
            "served": tally.outcomes[code]["served"],
            "referred": tally.outcomes[code]["referred"],
            "rejected": tally.outcomes[code]["rejected"],
            "no_shows": tally.no_shows[code],
            "follow_ups": tally.follow_ups[code],
        }
        for code in sorted(codes)
    }


def survey_figures(tally: Tally) -> dict[str, Any]:
    """The session's survey answers and their IKM by hand (PermenPAN-RB 14/2017): each
    element's mean, the sum of the means times 1/9, times 25; None without answers."""
    answers = [scores for per_service in tally.surveys.values() for scores in per_service]
    if not answers:
        return {"responses": 0, "ikm": None}
    means = [sum(a[i] for a in answers) / len(answers) for i in range(9)]
    return {"responses": len(answers), "ikm": round(sum(m / 9 for m in means) * 25, 2)}


async def _reporting_ikm(
    client: httpx.AsyncClient, reporting_url: str, session_id: str, expected: dict[str, Any]
) -> dict[str, Any]:
    """Reporting's IKM of the session's answers, once it has caught up (bounded wait)."""
    figures: dict[str, Any] = {"responses": 0, "ikm": None}
    for _ in range(int(WAIT_SECONDS / 0.25)):
        response = await client.get(f"{reporting_url}/v1/reports/ikm")
        if response.status_code == 200:
            sessions = response.json()["groups"].get("session", [])
            group = next((g for g in sessions if g["key"]["session_id"] == session_id), None)
            if group is not None:
                figures = {"responses": group["responses"], "ikm": group["ikm"]}
            if figures == expected:
                break
        await asyncio.sleep(0.25)
    return figures


async def _open_new_session(
    client: httpx.AsyncClient, urls: dict[str, str], kecamatan: str, desa: str | None
) -> str:
    # Hours from now: its arrival slots are open at any time of day (pre-registration).
    start, end = session_hours(system_clock().astimezone(JAKARTA))
    body = {
        "level": "desa" if desa else "kecamatan",
        "kecamatan": kecamatan,
        "desa": desa,
        "date": date.isoformat(local_today(system_clock)),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "venue": "Simulasi Botram",
    }
    created = await client.post(f"{urls['scheduler']}/v1/sessions", json=body)
    if created.status_code != 201:
        raise typer.BadParameter(
            f"the scheduler refused the session: {created.json().get('detail')}"
        )
    session_id: str = created.json()["id"]
    opened = await client.post(f"{urls['scheduler']}/v1/sessions/{session_id}/open")
    opened.raise_for_status()
    return session_id


async def _wait_for(client: httpx.AsyncClient, url: str, status: str) -> dict[str, Any]:
    """Poll until the registry knows the session in this status (bounded)."""
    for _ in range(int(WAIT_SECONDS / 0.2)):
        response = await client.get(url)
        if response.status_code == 200 and response.json()["status"] == status:
            return response.json()  # type: ignore[no-any-return]
        await asyncio.sleep(0.2)
    raise typer.BadParameter(f"the registry does not know the session as {status}: {url}")


def reporting_counts(report: dict[str, Any]) -> tuple[int, dict[str, dict[str, int]]]:
    """Check-ins and per-service counts from reporting's session report."""
    renamed = {"tickets": "tickets_issued"}
    services = {
        cell["key"]: {name: int(cell.get(renamed.get(name, name), 0)) for name in REPORT_FIELDS}
        for cell in report.get("groups", {}).get("service", [])
    }
    services = {code: counts for code, counts in services.items() if any(counts.values())}
    return int(report.get("totals", {}).get("check_ins", 0)), services


async def _reporting_report(
    client: httpx.AsyncClient, reporting_url: str, session_id: str, tally: Tally
) -> tuple[int, dict[str, dict[str, int]]]:
    """Reporting's counts for the session, once it has caught up (bounded wait)."""
    expected = (tally.checkins, per_service(tally))
    counts: tuple[int, dict[str, dict[str, int]]] = (0, {})
    for _ in range(int(WAIT_SECONDS / 0.25)):
        response = await client.get(f"{reporting_url}/v1/reports/sessions/{session_id}")
        if response.status_code == 200:
            counts = reporting_counts(response.json())
            if counts == expected:
                break
        await asyncio.sleep(0.25)
    return counts


def _print_summary(
    tally: Tally, mine: dict[str, dict[str, int]], theirs: dict[str, dict[str, int]], agrees: bool
) -> None:
    table = Table(title="Simulated day (simulator / reporting)")
    table.add_column("service")
    for name in REPORT_FIELDS:
        table.add_column(name.replace("_", "-"), justify="right")
    for code, counts in mine.items():
        other = theirs.get(code, {})
        table.add_row(code, *(f"{counts[k]} / {other.get(k, 0)}" for k in REPORT_FIELDS))
    console.print(table)
    console.print(
        f"check-ins: {tally.checkins} ({tally.pre_registrations} pre-registered, "
        f"{tally.checked_in_by_code} checked in by code) · "
        f"HTTP requests: {tally.requests}"
    )
    if tally.refused:
        console.print(
            "refused by the system: " + ", ".join(f"{k} ×{v}" for k, v in tally.refused.items())
        )
    if agrees:
        console.print("[bold green]reporting agrees with the simulator[/]")
    else:
        console.print("[bold red]reporting DISAGREES with the simulator[/]")
