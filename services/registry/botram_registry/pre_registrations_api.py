"""Pre-registration routes (contract, "Additions"): a desa office or a cadre registers a citizen
ahead of a session with an arrival slot; at the fair the code of their QR checks them in.

Same rules as `api.py`: the body becomes a command, a use case runs it, its result a schema.
"""

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from botram_contracts.wallclock import WallClock, WallClockInput
from botram_registry.api import PUBLIC, FrontDesk, _check_in_response, _status_base
from botram_registry.deps import DepsDep
from botram_registry.domain.pre_registration import (
    CheckInPreRegistered,
    PreRegister,
    PreRegistered,
    SlotCount,
)
from botram_registry.schemas import CheckInResponse
from botram_registry.usecases import pre_registrations
from botram_runtime.inputs import PlainText, Slug

router = APIRouter(prefix="/v1", tags=["pre-registration"])


class PreRegistrationRequest(BaseModel):
    """A citizen registered ahead of a session, and the arrival slot they chose."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(max_length=32, description="16-digit NIK, validated as at check-in")
    name: PlainText = Field(min_length=1, max_length=200)
    phone: str | None = Field(
        default=None,
        pattern=r"^\+?[0-9]{8,15}$",
        description="For the SMS with the slot and the QR code's link",
    )
    services: list[Slug] = Field(min_length=1, max_length=20)
    slot: WallClockInput = Field(description="The start of an arrival slot (GET …/slots)")
    priority: bool = Field(
        default=False, description="Disabilitas or ibu hamil (lansia is derived from the NIK)"
    )


class SlotWindow(BaseModel):
    start: WallClock
    end: WallClock


class SlotPublic(SlotWindow):
    capacity: int
    booked: int
    available: int


class PreRegistrationPublic(BaseModel):
    pre_registration_id: str
    session_id: str
    code: str = Field(
        description="What the QR encodes and a desk may type (the holder's secret)",
        examples=["K7QF3-MXP9A"],
    )
    slot: SlotWindow
    services: list[str]
    qr_url: str = Field(description="The public page with the QR code (sent by SMS)")


@router.post("/sessions/{session_id}/pre-registrations", status_code=status.HTTP_201_CREATED)
async def pre_register(
    session_id: str,
    body: PreRegistrationRequest,
    request: Request,
    deps: DepsDep,
    actor: FrontDesk,
) -> PreRegistrationPublic:
    """Register a citizen ahead of an upcoming session, for an arrival slot."""
    command = PreRegister(
        session_id=session_id,
        nik=body.nik,
        name=body.name,
        services=tuple(body.services),
        slot=body.slot,
        phone=body.phone,
        priority=body.priority,
        actor=actor,
    )
    base = _qr_base(request, deps)
    return _pre_registration_public(await pre_registrations.pre_register(deps, command, base), base)


@router.get("/sessions/{session_id}/slots", dependencies=PUBLIC)
async def slots(session_id: str, deps: DepsDep) -> list[SlotPublic]:
    """A session's arrival slots for pre-registration, with the places taken (counts only)."""
    return [_slot_public(count) for count in await pre_registrations.slot_counts(deps, session_id)]


@router.post(
    "/sessions/{session_id}/pre-registrations/{code}/check-in",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "Checked in already (walked in): the tickets added"}},
)
async def check_in_pre_registered(
    session_id: str,
    code: str,
    request: Request,
    response: Response,
    deps: DepsDep,
    actor: FrontDesk,
) -> CheckInResponse:
    """Check a pre-registered citizen in by the code of their QR: an ordinary check-in."""
    command = CheckInPreRegistered(session_id=session_id, code=code[:32], actor=actor)
    result = await pre_registrations.check_in_pre_registered(deps, command)
    if not result.created:
        response.status_code = status.HTTP_200_OK
    return _check_in_response(result, _status_base(request, deps))


def _qr_base(request: Request, deps: DepsDep) -> str:
    """Where a pre-registration's QR page is: the configured public address, else the
    request's."""
    return (deps.settings.public_url or str(request.base_url)).rstrip("/") + "/p/"


def _slot_public(count: SlotCount) -> SlotPublic:
    return SlotPublic(
        start=count.slot.start,
        end=count.slot.end,
        capacity=count.capacity,
        booked=count.booked,
        available=max(count.capacity - count.booked, 0),
    )


def _pre_registration_public(done: PreRegistered, base: str) -> PreRegistrationPublic:
    return PreRegistrationPublic(
        pre_registration_id=done.pre_registration_id,
        session_id=done.session_id,
        code=done.code,
        slot=SlotWindow(start=done.slot.start, end=done.slot.end),
        services=list(done.services),
        qr_url=base + done.code,
    )
