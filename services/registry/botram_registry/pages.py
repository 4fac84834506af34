"""Registry screens (contract, "Screens"): the front desk, a desk (loket), the public display
of a session and a citizen's ticket.

`/p/{code}` is a citizen's pre-registration (its QR code checks them in at the fair).
`/front-desk` and `/desk` are public shells: signed in (front-desk, desk or operator), their
scripts act through the JSON API with the bearer token, so the HTML never holds a NIK, a name
or a phone. `/display/{session_id}` and `/t/{code}` are public and show ticket numbers only;
the display follows the session live (`screens_api`, Server-Sent Events fed from the bus).
"""

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from botram_registry.deps import DepsDep
from botram_registry.domain.survey import QUESTIONNAIRE
from botram_registry.usecases import display, pre_registrations, queues
from botram_runtime.access import public
from botram_runtime.pages import PageKitDep

router = APIRouter(
    include_in_schema=False, dependencies=[Depends(public())], default_response_class=HTMLResponse
)

FRONT_DESK_ROLES = ["front-desk", "operator"]
DESK_ROLES = ["desk", "operator"]
# A status code as tickets carry it (URL-safe base64 of 16 random bytes; older: longer).
StatusCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,32}$")]
# A pre-registration's code as shown (`ABCDE-FGHJK`) or typed.
PreRegistrationCode = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{8,16}$")]
SessionId = Annotated[str, Path(max_length=36, pattern=r"^[A-Za-z0-9-]+$")]


@router.get("/front-desk")
async def front_desk(kit: PageKitDep) -> HTMLResponse:
    """Check-in at the entrance (signed in as front-desk or operator)."""
    return kit.render("front_desk.html", title="Pendaftaran warga", signin_roles=FRONT_DESK_ROLES)


@router.get("/desk")
async def desk(kit: PageKitDep) -> HTMLResponse:
    """An agency's desk (loket): call the next ticket and act on it (desk or operator)."""
    return kit.render("desk.html", title="Loket layanan", signin_roles=DESK_ROLES)


@router.get("/display/{session_id}")
async def display_page(session_id: SessionId, kit: PageKitDep, deps: DepsDep) -> HTMLResponse:
    """The public display of a session (a TV in the tent): the latest calls, live."""
    board = await display.display_snapshot(deps, session_id)
    return kit.render("display.html", title="Antrean Botram", board=board)


@router.get("/t/{code}")
async def ticket_page(code: StatusCode, kit: PageKitDep, deps: DepsDep) -> HTMLResponse:
    """A citizen's ticket: position, estimated wait, the desk once called (no sign-in)."""
    ticket = await queues.ticket_status(deps, code)
    return kit.render(
        "ticket.html",
        title="Tiket antrean",
        ticket=ticket,
        code=code,
        questionnaire=QUESTIONNAIRE,
        refresh_seconds=deps.settings.ticket_page_refresh_seconds,
    )


@router.get("/t/{code}/slip")
async def ticket_slip(
    code: StatusCode, request: Request, kit: PageKitDep, deps: DepsDep
) -> HTMLResponse:
    """A ticket as printed at the front desk (a fragment): its number large and a QR code of
    its status page."""
    ticket = await queues.ticket_status(deps, code)
    base = deps.settings.public_url or str(request.base_url)
    url = f"{base.rstrip('/')}/t/{code}"
    return kit.render("ticket_slip.html", ticket=ticket, url=url, qr=_qr_svg(url))


@router.get("/p/{code}")
async def pre_registration_page(
    code: PreRegistrationCode, kit: PageKitDep, deps: DepsDep
) -> HTMLResponse:
    """A citizen's pre-registration (the SMS link): the session, the arrival slot and the QR
    code of the code that checks them in at the fair (no sign-in, no personal data)."""
    view = await pre_registrations.pre_registration_view(deps, code)
    return kit.render(
        "pre_registration.html", title="Pendaftaran awal", view=view, qr=_qr_svg(view.code)
    )


def _qr_svg(text: str) -> Markup:
    """A QR code of `text` as inline SVG (segno: no image file, nothing sent elsewhere)."""
    svg = segno.make(text, error="m").svg_inline(scale=4, border=2, omitsize=True)
    return Markup(svg)
