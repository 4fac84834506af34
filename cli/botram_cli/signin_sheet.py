"""`botram signin-sheet`: the day's sign-in QR codes for a session, printed in the morning.

One code for the front desk and one per desk of each agency the session hosts; each is a
sign-in link (`<registry>/front-desk#access_token=…`, `<registry>/desk#access_token=…`) whose
token expires when the session closes. Scanning it with a tablet at the desk signs that desk
in: this is how a fair is staffed without accounts at an identity provider. The sheet is a
secret (anyone holding it can sign in until the session ends): the file is written readable
by its owner only, and the sheet says so in print.
"""

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Annotated, Any

import httpx
import segno
import typer
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from botram_cli.tokens import MAX_TTL_SECONDS, mint_token, sign_in_link
from botram_contracts.reference import load_catalogue, load_regions
from botram_runtime.actors import Role
from botram_runtime.clock import JAKARTA, WEEKDAYS, tanggal
from botram_runtime.settings import ServiceSettings

TEMPLATES = Path(__file__).parent / "templates"
LEVELS = {"kecamatan": "Botram Kecamatan", "desa": "Botram Desa"}


@dataclass(frozen=True)
class SignInCode:
    """One QR code of the sheet: who it signs in, where, until when."""

    title: str
    detail: str
    roles: tuple[Role, ...]
    agency: str | None
    link: str


def session_end(session: dict[str, Any]) -> datetime:
    """When a session closes: its date and end time in the regency (WIB)."""
    day, end = date.fromisoformat(session["date"]), time.fromisoformat(session["end"])
    return datetime.combine(day, end, tzinfo=JAKARTA)


def in_words(moment: datetime) -> str:
    """`Sabtu, 6 Juni 2026 pukul 14.00 WIB`."""
    local = moment.astimezone(JAKARTA)
    day = f"{WEEKDAYS[local.weekday()]}, {tanggal(local.date())}"
    return f"{day} pukul {local:%H.%M} WIB"


def plan_codes(
    session: dict[str, Any],
    *,
    registry_url: str,
    until: datetime,
    agencies: list[str] | None,
    desks: int,
    now: datetime,
    auth_dir: Path,
) -> list[SignInCode]:
    """The front desk's code and `desks` codes for each agency (default: the session's)."""
    ttl = int((until - now).total_seconds())
    if ttl <= 0:
        raise typer.BadParameter(f"the session ended {in_words(until)}: nothing to sign in to")
    if ttl > MAX_TTL_SECONDS:
        raise typer.BadParameter("a sign-in code lives at most 7 days: pass an earlier --until")
    catalogue = load_catalogue(regency=ServiceSettings().regency)
    offered = sorted({catalogue.get(code).agency for code in session["services"]})
    chosen = agencies or offered
    unknown = [slug for slug in chosen if slug not in catalogue.agencies]
    if unknown:
        raise typer.BadParameter(f"unknown agency: {', '.join(unknown)}")
    base = registry_url.rstrip("/")

    def code(title: str, detail: str, roles: tuple[Role, ...], agency: str | None) -> SignInCode:
        expires = int(until.timestamp())
        token = mint_token(list(roles), agency=agency, expires_at=expires, directory=auth_dir)
        path = "/desk" if Role.DESK in roles else "/front-desk"
        return SignInCode(title, detail, roles, agency, sign_in_link(base + path, token))

    codes = [code("Meja pendaftaran", "Petugas pendaftaran", (Role.FRONT_DESK,), None)]
    for slug in chosen:
        name = catalogue.agencies[slug].name
        for number in range(1, desks + 1):
            title = f"Loket {name}" + (f" ({number})" if desks > 1 else "")
            codes.append(code(title, "Petugas loket", (Role.DESK,), slug))
    return codes


def render_sheet(session: dict[str, Any], codes: list[SignInCode], until: datetime) -> str:
    """The printable page: one card per code, with its QR code as inline SVG."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    regency = ServiceSettings()
    regions = load_regions(regency.province, regency.regency)
    place = regions.kecamatan(session["kecamatan"]).name
    if session["level"] == "desa" and session.get("desa"):
        place = f"{regions.desa(session['kecamatan'], session['desa']).name}, Kecamatan {place}"
    cards = [
        {
            "title": c.title,
            "detail": c.detail,
            "qr": Markup(segno.make(c.link, error="l").svg_inline(scale=3, title=c.title)),
        }
        for c in codes
    ]
    return environment.get_template("signin_sheet.html").render(
        level=LEVELS.get(session["level"], session["level"]),
        place=place,
        day=in_words(session_end(session)).split(" pukul ")[0],
        until=in_words(until),
        cards=cards,
    )


def fetch_session(scheduler_url: str, session_id: str) -> dict[str, Any]:
    """The session, from the scheduler's public API."""
    url = f"{scheduler_url.rstrip('/')}/v1/sessions/{session_id}"
    try:
        response = httpx.get(url, timeout=10)
    except httpx.HTTPError as error:
        message = f"the scheduler at {scheduler_url} does not answer: {error}"
        raise typer.BadParameter(message) from error
    if response.status_code == 404:
        raise typer.BadParameter(f"no session {session_id}")
    response.raise_for_status()
    session: dict[str, Any] = response.json()
    return session


def signin_sheet(
    session_id: Annotated[str, typer.Option("--session", help="The session's id")],
    agency: Annotated[
        list[str] | None,
        typer.Option(
            help="An agency slug (repeat for several; default: every agency the session hosts)"
        ),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(help="When the codes stop working (default: the session's end, WIB)"),
    ] = None,
    desks: Annotated[int, typer.Option(min=1, max=20, help="Codes per agency")] = 1,
    output: Annotated[Path | None, typer.Option(help="The HTML file to write")] = None,
    scheduler: Annotated[str, typer.Option(help="The scheduler's URL")] = "http://127.0.0.1:8001",
    registry: Annotated[
        str, typer.Option(help="The registry's URL (the pages)")
    ] = "http://127.0.0.1:8002",
    var_dir: Annotated[Path, typer.Option(help="Where `botram up` keeps its state")] = Path("var"),
) -> None:
    """Write a printable page of sign-in QR codes for a session's front desk and desks."""
    session = fetch_session(scheduler, session_id)
    if session["status"] in ("closed", "cancelled"):
        raise typer.BadParameter(f"the session is {session['status']}")
    end = session_end(session)
    if until is not None:
        end = until if until.tzinfo else until.replace(tzinfo=JAKARTA)
    codes = plan_codes(
        session,
        registry_url=registry,
        until=end,
        agencies=agency,
        desks=desks,
        now=datetime.now(UTC),
        auth_dir=var_dir / "auth",
    )
    path = output or Path(f"signin-{session_id}.html")
    # Owner-only from the start: the sheet signs people in until the session ends.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(render_sheet(session, codes, end))
    typer.echo(f"{len(codes)} sign-in codes, valid until {end.isoformat()}: {path}")
    typer.echo("Print it, keep it with the operator, and destroy it after the session.")
