"""HTTP request and response bodies of the scheduler API."""

import datetime as dt
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from botram_contracts.vocabulary import Level, SessionStatus
from botram_contracts.wallclock import WallClock, WallClockInput
from botram_runtime.inputs import Day, Paragraph, PlainText, Slug
from botram_scheduler.domain.generation import Action
from botram_scheduler.domain.rotation import Policy
from botram_scheduler.domain.sessions import Origin


class SessionCreate(BaseModel):
    """A session to put on the calendar by hand."""

    model_config = ConfigDict(extra="forbid")

    level: Level
    kecamatan: PlainText = Field(min_length=1, max_length=80, examples=["Sukatani"])
    desa: PlainText | None = Field(default=None, max_length=80, examples=["Ciantra"])
    date: Day
    start: WallClockInput | None = None
    end: WallClockInput | None = None
    venue: PlainText | None = Field(default=None, max_length=200)
    services: list[Slug] | None = Field(
        default=None,
        max_length=100,
        description="Service codes; default: the catalogue for the level",
    )


class SessionUpdate(BaseModel):
    """What to change in a session; fields left out stay as they are. A scheduled session
    may change anything; an opened one may only add services and raise quotas."""

    model_config = ConfigDict(extra="forbid")

    services: list[Slug] | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        description="Every service the session offers from now on (replaces the list)",
    )
    quotas: dict[Slug, Annotated[int, Field(ge=1, le=100_000)]] | None = Field(
        default=None,
        max_length=100,
        description="Tickets per service, for the services named (the others keep theirs)",
        examples=[{"dukcapil-kk": 150}],
    )
    venue: PlainText | None = Field(default=None, min_length=1, max_length=200)
    start: WallClockInput | None = None
    end: WallClockInput | None = None


class Reason(BaseModel):
    """Why a session is cancelled or moved: citizens are told."""

    model_config = ConfigDict(extra="forbid")

    reason: Paragraph = Field(min_length=1, max_length=500)


class Reschedule(Reason):
    """Another date (and times) for a session (an opened one: by an operator only)."""

    date: Day
    start: WallClockInput | None = None
    end: WallClockInput | None = None


class SessionPublic(BaseModel):
    """A session as the API shows it."""

    id: str
    level: Level
    kecamatan: str
    desa: str | None
    date: dt.date
    start: WallClock
    end: WallClock
    venue: str | None
    services: list[str]
    quotas: dict[str, int]
    status: SessionStatus
    origin: Origin
    status_reason: str | None
    ranking_id: str | None = Field(
        default=None, description="The demand ranking event the desa service mix came from"
    )
    rotation_key: str | None = Field(
        default=None, description="The rotation slot this session fills (generated sessions)"
    )
    created_at: datetime
    updated_at: datetime


class SessionPage(BaseModel):
    """A page of sessions and how many match in all."""

    items: list[SessionPublic]
    total: int
    limit: int
    offset: int


class GenerateRequest(BaseModel):
    """A date range of the rotation to preview (dry_run) or to put on the calendar."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: Day = Field(alias="from", examples=["2024-07-01"])
    end: Day = Field(alias="to", examples=["2024-07-31"])
    dry_run: bool = False


class GeneratedSession(BaseModel):
    """A session the rules produce in the range, and what generation did with it."""

    action: Action = Field(
        description=(
            "preview: dry run; created: new; unchanged: already there; rescheduled: moved "
            "to follow the rules; kept: differs but is past, opened or changed by hand; "
            "past: before today, not stored"
        )
    )
    session_id: str | None
    rotation_key: str
    level: Level
    kecamatan: str
    desa: str | None
    date: dt.date
    start: WallClock
    end: WallClock
    venue: str | None
    services: list[str]
    ranking_id: str | None


class Move(BaseModel):
    """A rotation day on a holiday or blackout date, and where its session went."""

    date: dt.date
    level: Level
    reason: str
    action: Policy
    kecamatan: str
    desa: str | None
    moved_to: dt.date | None


class GenerationPublic(BaseModel):
    """What generation planned in the range, what it changed, and the days it moved."""

    model_config = ConfigDict(populate_by_name=True)

    start: dt.date = Field(serialization_alias="from")
    end: dt.date = Field(serialization_alias="to")
    dry_run: bool
    sessions: list[GeneratedSession]
    moves: list[Move]
    created: int
    rescheduled: int
    cancelled: list[str] = Field(description="Ids of sessions cancelled because the rules changed")
