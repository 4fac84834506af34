"""`botram signin-sheet`: the day's sign-in QR codes, against a running scheduler."""

import re
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import segno
from typer.testing import CliRunner

from botram_cli.main import app
from botram_cli.signin_sheet import fetch_session, plan_codes, render_sheet, session_end
from botram_cli.tokens import ensure_key_pair
from botram_runtime.actors import Role
from botram_runtime.auth import JwksFile, TokenVerifier
from botram_runtime.clock import JAKARTA
from botram_runtime.settings import EMBEDDED_ISSUER
from helpers import LiveService

# A Saturday-like session two days from now (real time: the codes' tokens use the real clock).
DAY = (datetime.now(JAKARTA) + timedelta(days=2)).date()
SERVICES = ["dukcapil-ktp-cetak", "dukcapil-kk", "bpjs-kesehatan-pendaftaran", "pmi-donor-darah"]


@pytest.fixture
def scheduler(serve: Callable[..., LiveService]) -> LiveService:
    return serve("scheduler", auto_lifecycle=False)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    """The state of `botram up`: its key pair, which the services trust."""
    ensure_key_pair(tmp_path / "var" / "auth")
    return tmp_path / "var"


def create_session(scheduler: LiveService, services: list[str]) -> dict[str, Any]:
    body = {
        "level": "kecamatan",
        "kecamatan": "Sukatani",
        "date": DAY.isoformat(),
        "start": "08:00",
        "end": "14:00",
        "services": services,
    }
    response = httpx.post(
        f"{scheduler.url}/v1/sessions", json=body, headers=scheduler.headers("planner"), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_each_code_signs_in_its_desk_until_the_session_closes(
    scheduler: LiveService, var_dir: Path
) -> None:
    created = create_session(scheduler, SERVICES)
    session = fetch_session(scheduler.url, created["id"])
    until = session_end(session)

    codes = plan_codes(
        session,
        registry_url="http://127.0.0.1:8002",
        until=until,
        agencies=None,
        desks=2,
        now=datetime.now(UTC),
        auth_dir=var_dir / "auth",
    )

    verifier = TokenVerifier(JwksFile(var_dir / "auth" / "jwks.json"), issuer=EMBEDDED_ISSUER)
    agencies = ["bpjs-kesehatan", "dukcapil", "pmi"]  # those of the session's services
    front_desk, desks = codes[0], codes[1:]
    assert front_desk.link.startswith("http://127.0.0.1:8002/front-desk#access_token=")
    actor = await verifier.verify(front_desk.link.split("#access_token=")[1])
    assert actor.roles == {Role.FRONT_DESK} and actor.agency is None
    assert actor.expires_at == until.astimezone(UTC).replace(microsecond=0)
    assert [d.agency for d in desks] == [a for a in agencies for _ in range(2)]
    subjects = set()
    for desk in desks:
        assert desk.link.startswith("http://127.0.0.1:8002/desk#access_token=")
        actor = await verifier.verify(desk.link.split("#access_token=")[1])
        assert actor.roles == {Role.DESK} and actor.agency == desk.agency
        assert actor.expires_at == until.astimezone(UTC).replace(microsecond=0)
        subjects.add(actor.sub)
    assert len(subjects) == len(desks)  # an agency can tell its desks apart

    html = render_sheet(session, codes, until)

    assert html.count('<section class="card">') == len(codes)
    for code in codes:  # each card's QR code is the code's link
        qr = segno.make(code.link, error="l").svg_inline(scale=3, title=code.title)
        assert re.search(r' d="([^"]+)"', qr)[1] in html  # type: ignore[index]
    assert "Loket Dinas Kependudukan dan Pencatatan Sipil (2)" in html
    assert "Botram Kecamatan Sukatani" in html


def test_the_command_writes_an_owner_only_sheet_for_the_chosen_agency(
    scheduler: LiveService, var_dir: Path, tmp_path: Path
) -> None:
    created = create_session(scheduler, SERVICES)
    output = tmp_path / "sheet.html"

    result = CliRunner().invoke(
        app,
        [
            "signin-sheet",
            "--session", created["id"],
            "--agency", "dukcapil",
            "--scheduler", scheduler.url,
            "--var-dir", str(var_dir),
            "--output", str(output),
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "2 sign-in codes" in result.output
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    html = output.read_text()
    assert (
        html.count("<svg") == 2
        and "Meja pendaftaran" in html
        and "Loket Dinas Kependudukan" in html
    )
    assert 'lang="id"' in html


def test_a_session_that_has_ended_gets_no_codes(scheduler: LiveService, var_dir: Path) -> None:
    created = create_session(scheduler, SERVICES)

    result = CliRunner().invoke(
        app,
        [
            "signin-sheet",
            "--session", created["id"],
            "--until", "2020-01-01T12:00:00",
            "--scheduler", scheduler.url,
            "--var-dir", str(var_dir),
        ],
    )  # fmt: skip

    assert result.exit_code != 0
    assert "nothing to sign in to" in result.output


async def test_botram_token_link_prints_a_sign_in_link_for_a_page(var_dir: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "token",
            "--role", "desk",
            "--agency", "dukcapil",
            "--link", "http://127.0.0.1:8002/desk",
            "--var-dir", str(var_dir),
        ],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    page, token = link.split("#access_token=")
    assert page == "http://127.0.0.1:8002/desk"
    verifier = TokenVerifier(JwksFile(var_dir / "auth" / "jwks.json"), issuer=EMBEDDED_ISSUER)
    actor = await verifier.verify(token)
    assert actor.roles == {Role.DESK} and actor.agency == "dukcapil"
